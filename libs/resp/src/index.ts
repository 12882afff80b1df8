export * from './request-parser.js';
export * from './encode.js';
export * from './reply.js';
export * from './reply-reader.js';
