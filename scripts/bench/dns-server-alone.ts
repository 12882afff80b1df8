/**
 * libs/dns-server's `DnsServer` alone in a process of its own, serving a fixed zone: the responder
 * without the controller around it (no topology, no freshness check, no other work on the event loop).
 * Started with one JSON argument (`DnsServerAloneOptions`); tells its port over the fork IPC channel
 * (`{ type: 'ready', port }`).
 */
import { DnsServer, type ZoneData } from '../../libs/dns-server/src/index.js';

export interface DnsServerAloneOptions {
  zone: string;
  ttl: number;
  serial: number;
  nameserver: string;
  nameserverAddress: string;
  /** Cluster name → its master (no replicas). */
  masters: [string, { host: string; port: number }][];
}

const o = JSON.parse(process.argv[2]!) as DnsServerAloneOptions;
const zone: ZoneData = {
  zone: o.zone,
  ttl: o.ttl,
  serial: o.serial,
  nameserver: o.nameserver,
  nameserverAddress: o.nameserverAddress,
  clusters: new Map(o.masters.map(([name, master]) => [name, { master, replicas: [] }])),
};
const server = new DnsServer(() => zone, { host: '127.0.0.1', port: 0, onError: (err) => console.error(err) });
server.start().then(
  ({ port }) => process.send!({ type: 'ready', port }),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
