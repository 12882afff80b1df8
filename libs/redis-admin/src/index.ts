export * from './info.js';
export * from './connection.js';
export * from './replication.js';
export * from './commands.js';
