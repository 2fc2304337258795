export * from './envelope.js';
export * from './events.js';
export * from './money.js';
export * from './common-schemas.js';
export * from './validator.js';
