import { EventEmitter } from 'node:events';
import { type BeforeApplicationShutdown, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { type CachedCluster, TopologyCache, type TopologyChange, type TopologySnapshot } from '../topology/topology-cache.service.js';
import { changedByName } from '../topology/topology-snapshot.js';

/** A cluster's published master. `epoch` is the cluster epoch the master was recorded under. */
export interface MasterEntry {
  cluster: string;
  clusterId: string;
  nodeId: string;
  host: string;
  port: number;
  epoch: number;
  since: Date | null;
}

/** Emitted when a cluster's master or its epoch moves (also when a first master is recorded). */
export interface MasterMove {
  cluster: string;
  previous: MasterEntry | null;
  current: MasterEntry | null;
}

/** `host:port` of a published master. */
export function masterAddress(m: Pick<MasterEntry, 'host' | 'port'>): string {
  return `${m.host}:${m.port}`;
}

/** The strong validator of a master answer: it changes exactly when the master or its epoch does. */
export function masterEtag(m: MasterEntry): string {
  return `"${m.epoch}-${m.host}-${m.port}"`;
}

function sameMaster(a: MasterEntry | null, b: MasterEntry | null): boolean {
  if (a === null || b === null) return a === b;
  return a.nodeId === b.nodeId && a.host === b.host && a.port === b.port && a.epoch === b.epoch;
}

function masterOf(c: CachedCluster): MasterEntry | null {
  const masters = c.nodes.filter((n) => n.role === 'master');
  if (masters.length !== 1) return null;
  const m = masters[0]!;
  return { cluster: c.name, clusterId: c.id, nodeId: m.id, host: m.host, port: m.port, epoch: m.roleEpoch, since: c.masterSince };
}

/**
 * Every cluster's current master, derived from each new topology snapshot: the one source the
 * REST lookup, the Sentinel endpoint and the DNS responder answer from, on every controller replica.
 * `moves` emits `'move'` with a `MasterMove` when a master changes.
 */
@Injectable()
export class MasterDirectory implements OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly moves = new EventEmitter();
  private closing = false;
  private masters = new Map<string, MasterEntry | null>();
  private readonly snapshotListeners: ((snapshot: TopologySnapshot, change: TopologyChange) => void)[] = [];

  constructor(private readonly topology: TopologyCache) {
    this.moves.setMaxListeners(0);
  }

  onApplicationBootstrap(): void {
    this.apply(this.topology.snapshot);
    this.topology.onChange((s, change) => this.apply(s, change));
  }

  /** The master of a cluster: `undefined` for no such cluster, `null` when none is recorded. */
  get(cluster: string): MasterEntry | null | undefined {
    return this.masters.get(cluster);
  }

  /** Whether this replica can vouch for its answers (see `TopologyCache.isFresh`). */
  isFresh(now = Date.now()): boolean {
    return this.topology.isFresh(now);
  }

  get snapshot(): TopologySnapshot {
    return this.topology.snapshot;
  }

  /** Resolves once the master's epoch is above `epoch` (or the cluster is gone), after `timeoutMs`, or on `signal`. */
  waitEpochAfter(cluster: string, epoch: number, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const moved = () => {
      const now = this.get(cluster);
      return now === undefined || (now !== null && now.epoch > epoch);
    };
    if (moved() || this.closing) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.moves.off('move', onMove);
        this.moves.off('closing', done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const onMove = (m: MasterMove) => {
        if (m.cluster === cluster && moved()) done();
      };
      const timer = setTimeout(done, timeoutMs);
      this.moves.on('move', onMove);
      signal?.addEventListener('abort', done);
      this.moves.once('closing', done);
    });
  }

  /** A stopping replica answers its parked watches now (with the current master) instead of cutting them. */
  beforeApplicationShutdown(): void {
    this.closing = true;
    this.moves.emit('closing');
  }

  /** Calls `fn` after every new snapshot has been applied (the masters in it are then current). */
  onSnapshot(fn: (snapshot: TopologySnapshot, change: TopologyChange) => void): void {
    this.snapshotListeners.push(fn);
  }

  /** A full load compares every cluster; a partial one only the clusters it names (a write costs the same at any size). */
  private apply(snapshot: TopologySnapshot, change: TopologyChange = { kind: 'full' }): void {
    const moved: MasterMove[] = [];
    if (change.kind === 'full') {
      const next = new Map<string, MasterEntry | null>();
      for (const c of snapshot.clusters) next.set(c.name, masterOf(c));
      for (const [name, current] of next) {
        const previous = this.masters.get(name) ?? null;
        if (!sameMaster(previous, current)) moved.push({ cluster: name, previous, current });
      }
      for (const [name, previous] of this.masters) {
        if (!next.has(name) && previous !== null) moved.push({ cluster: name, previous, current: null });
      }
      this.masters = next;
    } else {
      const { current, removed } = changedByName(snapshot, change);
      for (const name of removed) {
        const previous = this.masters.get(name) ?? null;
        this.masters.delete(name);
        if (previous !== null) moved.push({ cluster: name, previous, current: null });
      }
      for (const c of current) {
        const previous = this.masters.get(c.name) ?? null;
        const master = masterOf(c);
        this.masters.set(c.name, master);
        if (!sameMaster(previous, master)) moved.push({ cluster: c.name, previous, current: master });
      }
    }
    for (const fn of this.snapshotListeners) fn(snapshot, change);
    for (const m of moved) this.moves.emit('move', m);
  }
}
