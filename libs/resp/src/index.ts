export * from './request-parser.js';
export * from './encode.js';
