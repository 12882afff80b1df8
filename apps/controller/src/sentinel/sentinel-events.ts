import type { FeedEvent } from '../audit/event-feed.service.js';
import type { DetectionTransition } from '../detection/detection-engine.js';
import { type MasterDirectory, type MasterMove } from '../discovery/master-directory.service.js';
import { masterDetails, slaveDetails, splitAddress } from './sentinel-format.js';

type Publish = (channel: string, payload: string) => void;

/**
 * Turns what Vigil observes into Sentinel's pub/sub events, on every controller replica:
 * detection transitions (this replica's own view) → `±sdown`, `±odown`; the event log (written by the
 * leader) → `+new-epoch`, `+try-failover`, `+promoted-slave`, `+slave-reconf-done`, `+failover-end`,
 * `-failover-abort-no-good-slave`, `+convert-to-slave`; master directory moves → `+switch-master`
 * followed by `+slave` for each replica of the new master, as Sentinel announces them.
 */
export class SentinelEvents {
  /** Clusters with a failover running → the master it started from. */
  private readonly failing = new Map<string, { host: string; port: number } | undefined>();

  constructor(
    private readonly directory: MasterDirectory,
    private readonly publish: Publish,
  ) {}

  /**
   * Sentinel's \`failover_in_progress\` flag for the master now recorded at \`current\`: set only while the
   * failover has not moved the master yet. Sentinel flags the old master's record and clears it when it
   * switches to the promoted replica; flagging the new master until the replicas are re-pointed kept
   * node-redis (which refuses a flagged master) away from a master that already takes writes.
   */
  inFailover(cluster: string, current: { host: string; port: number }): boolean {
    if (!this.failing.has(cluster)) return false;
    const from = this.failing.get(cluster);
    return from === undefined || (from.host === current.host && from.port === current.port);
  }

  failoverStarted(cluster: string): void {
    this.failing.set(cluster, this.directory.get(cluster) ?? undefined);
  }

  /** Instance details of a node: `master …` when it is the cluster's master, else `slave … @ master`. */
  private details(cluster: string, node: { host: string; port: number }): string {
    const m = this.directory.get(cluster);
    if (!m || (m.host === node.host && m.port === node.port)) return masterDetails(cluster, node);
    return slaveDetails(cluster, node, m);
  }

  onTransition(t: DetectionTransition): void {
    if (t.kind !== 'node') return;
    const name = t.cluster.name;
    const details = this.details(name, t.node);
    const down = (s: string) => s === 'sdown' || s === 'odown';
    if (!down(t.from) && down(t.to)) this.publish('+sdown', details);
    if (t.from !== 'odown' && t.to === 'odown') this.publish('+odown', `${details} #quorum ${t.sdownVotes}/${t.cluster.quorum}`);
    if (t.from === 'odown' && t.to !== 'odown') this.publish('-odown', details);
    if (down(t.from) && !down(t.to)) this.publish('-sdown', details);
  }

  onEvent(e: FeedEvent): void {
    const name = e.cluster;
    if (name === null) return;
    const data = e.data;
    const from = typeof data['from'] === 'string' ? splitAddress(data['from']) : null;
    const to = typeof data['to'] === 'string' ? splitAddress(data['to']) : null;
    switch (e.type) {
      case 'failover.started': {
        const old = from ?? this.directory.get(name);
        this.failing.set(name, old ? { host: old.host, port: old.port } : undefined);
        if (typeof data['epoch'] === 'number') this.publish('+new-epoch', String(data['epoch']));
        if (old) this.publish('+try-failover', masterDetails(name, old));
        break;
      }
      case 'master.changed':
        if (from && to) this.publish('+promoted-slave', slaveDetails(name, to, from));
        break;
      case 'failover.succeeded': {
        this.failing.delete(name);
        if (!from || !to) break;
        const cluster = this.directory.snapshot.clustersByName.get(name);
        for (const n of cluster?.nodes ?? []) {
          const isTo = n.host === to.host && n.port === to.port;
          const isFrom = n.host === from.host && n.port === from.port;
          if (!isTo && !isFrom) this.publish('+slave-reconf-done', slaveDetails(name, n, from));
        }
        this.publish('+failover-end', masterDetails(name, from));
        break;
      }
      case 'failover.failed':
        this.failing.delete(name);
        if (from) this.publish('-failover-abort-no-good-slave', masterDetails(name, from));
        break;
      case 'failover.aborted':
        this.failing.delete(name);
        break;
      case 'node.demoted': {
        const node = typeof data['node'] === 'string' ? splitAddress(data['node']) : null;
        const master = typeof data['master'] === 'string' ? splitAddress(data['master']) : null;
        if (node && master) this.publish('+convert-to-slave', slaveDetails(name, node, master));
        break;
      }
    }
  }

  onMove(m: MasterMove): void {
    const { previous, current } = m;
    if (!previous || !current || (previous.host === current.host && previous.port === current.port)) return;
    this.publish('+switch-master', `${m.cluster} ${previous.host} ${previous.port} ${current.host} ${current.port}`);
    const cluster = this.directory.snapshot.clustersByName.get(m.cluster);
    for (const n of cluster?.nodes ?? []) {
      if (n.id !== current.nodeId) this.publish('+slave', slaveDetails(m.cluster, n, current));
    }
  }
}
