export {
  answerQuery,
  serverFailureReply,
  type DnsTransport,
  RCODE_BADVERS,
  RCODE_FORMERR,
  RCODE_NOERROR,
  RCODE_NOTIMP,
  RCODE_NXDOMAIN,
  RCODE_REFUSED,
  RCODE_SERVFAIL,
} from './responder.js';
export { DnsServer, DEFAULT_MAX_TCP_CONNECTIONS, DEFAULT_TCP_IDLE_TIMEOUT_MS, type DnsServerOptions } from './server.js';
export { validateZoneData, ZoneDataError, type DnsCluster, type DnsTarget, type ZoneData } from './zone.js';
