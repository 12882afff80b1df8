export * from './tsig.js';
export * from './update-client.js';
export { canonicalName, DnsFormatError, encodeIPv4, encodeIPv6, formatIPv4, formatIPv6, type SrvData } from './wire.js';
