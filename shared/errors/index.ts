export * from './app-error.js';
export * from './non-retryable-error.js';
export * from './dependency-unavailable-error.js';
export * from './dependency-tls-error.js';
