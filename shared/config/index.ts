export * from './load-env.js';
export * from './common-env.js';
export * from './amqp-urls.js';
export * from './durations.js';
export * from './secrets.js';
