export * from './tsig.js';
export * from './update-client.js';
export {
  canonicalName,
  decodeSrv,
  DnsFormatError,
  encodeIPv4,
  encodeIPv6,
  formatIPv4,
  formatIPv6,
  parseMessage,
  rcodeName,
  readName,
  RRType,
  type SrvData,
} from './wire.js';
