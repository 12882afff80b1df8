export * from './binaries.js';
export * from './ports.js';
export * from './processes.js';
export * from './postgres.js';
export * from './redis.js';
export * from './tcp-proxy.js';
export * from './tls.js';
export * from './bind.js';
