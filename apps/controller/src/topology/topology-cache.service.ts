import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import pg from 'pg';
import { Counter, Gauge } from 'prom-client';
import { DataSource } from 'typeorm';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../config/config.js';
import { MetricsService } from '../observability/metrics.service.js';
import { SecretBox } from './secret-box.js';

import {
  type AgentRow,
  cachedAgent,
  cachedCluster,
  type ClusterRow,
  nodesByCluster,
  type NodeRow,
  TOPOLOGY_SQL,
  type TopologyChange,
  TopologySnapshot,
} from './topology-snapshot.js';

export { TopologySnapshot } from './topology-snapshot.js';
export type { CachedAgent, CachedCluster, CachedNode, TopologyChange } from './topology-snapshot.js';

/**
 * Whether a snapshot whose load started at `loadedFrom` holds every committed change: yes when LISTEN
 * was up before that load started (later changes arrive as notifications) and still is, or when the
 * load is younger than `FRESH_WITHOUT_LISTEN_MS`. Never before a first load.
 */
export function canVouch(listeningSince: number | undefined, loadedFrom: number, now: number): boolean {
  if (loadedFrom <= 0) return false;
  if (listeningSince !== undefined && loadedFrom >= listeningSince) return true;
  return now - loadedFrom < FRESH_WITHOUT_LISTEN_MS;
}

const CHANNEL = 'vigil_topology';
/** Full reload this often even without notifications (a lost NOTIFY cannot leave a replica behind for long). */
const SAFETY_RELOAD_MS = 10_000;
const RELISTEN_MS = 250;
const NOTIFY_DEBOUNCE_MS = 20;
/** A failed load is retried as a full load this soon. */
const RELOAD_RETRY_MS = 250;
/** Past this many clusters changed at once, one full load is cheaper than a partial one. */
const PARTIAL_RELOAD_MAX = 200;
/** `NOTIFY vigil_topology` payloads: `cluster:<id>` (that cluster's rows changed), `agents`, or a table name (reload all). */
const CLUSTER_PREFIX = 'cluster:';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Without a working LISTEN, a snapshot younger than this is still vouched for. */
const FRESH_WITHOUT_LISTEN_MS = 2000;
/**
 * The LISTEN connection is asked `SELECT 1` this often, and dropped when it does not answer within
 * `LISTENER_PING_TIMEOUT_MS`: across a silent partition (packets dropped, no reset) the connection looks
 * up for minutes, and a replica cut from PostgreSQL would go on vouching for a snapshot that no longer
 * sees the leader's writes.
 */
const LISTENER_PING_MS = 500;
const LISTENER_PING_TIMEOUT_MS = 1000;

/**
 * The topology every controller replica keeps in memory: read by agent assignments and detection on
 * their hot paths. It reloads when Postgres announces a change (`NOTIFY vigil_topology`, sent by
 * triggers on clusters, nodes and agents' registrations), after this replica's own writes, and every 10 s regardless.
 * A change that names its cluster reloads that cluster alone (a partial load, `loadSome`); anything
 * else, many clusters at once, a new LISTEN connection and the 10 s timer load everything.
 */
@Injectable()
export class TopologyCache implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(TopologyCache.name);
  private readonly secrets: SecretBox;
  private readonly listeners: ((snapshot: TopologySnapshot, change: TopologyChange) => void)[] = [];
  private current = new TopologySnapshot([], 0);
  private reloading: Promise<void> | undefined;
  private readonly reloads: Counter<'kind'>;
  /** Work asked for and not yet started (see `drain`). */
  private pending: { full: boolean; agents: boolean; clusters: Set<string> } = { full: false, agents: false, clusters: new Set() };
  private listener: pg.Client | undefined;
  private safetyTimer: NodeJS.Timeout | undefined;
  private relistenTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private notifyTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private pingInFlight = false;
  /** Drops the current listener as failed (set by `listen`). */
  private dropListener: ((err: Error) => void) | undefined;
  /** When LISTEN last succeeded (undefined while the listener is down). */
  private listeningSince: number | undefined;
  /** When the query of the current snapshot started (changes committed before it are in it). */
  private loadedFrom = 0;
  /** Clusters (id → name) whose sealed Redis password no configured key opens. */
  private unreadable = new Map<string, string>();
  /** Sealed values already logged as unreadable (one error line per value, not one per reload). */
  private readonly reportedUnreadable = new Set<string>();
  /** When a reload first failed while LISTEN was down (cleared by a successful load): PostgreSQL is unreachable. */
  private reloadFailingSince: number | undefined;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(CONTROLLER_CONFIG) private readonly config: ControllerConfig,
    metrics: MetricsService,
  ) {
    this.secrets = new SecretBox(config.secretKey, config.secretKeysOld);
    this.reloads = new Counter({
      name: 'vigil_topology_reloads_total',
      help: 'In-memory topology loads: full (every cluster) or partial (the clusters a change named)',
      labelNames: ['kind'] as const,
      registers: [metrics.registry],
    });
    const unreadable = () => this.unreadable.size;
    new Gauge({
      name: 'vigil_secrets_unreadable',
      help: 'Clusters whose sealed Redis password none of VIGIL_SECRET_KEY / VIGIL_SECRET_KEYS_OLD opens',
      registers: [metrics.registry],
      collect() {
        this.set(unreadable());
      },
    });
  }

  /** Names of the clusters whose sealed Redis password no configured key opens (last load). */
  unreadableSecrets(): string[] {
    return [...this.unreadable.values()];
  }

  /**
   * Opens a cluster's Redis password. A value no configured key opens (sealed by a replica holding a key
   * this one lacks) must not stop the whole topology from loading: the cluster keeps the password this
   * replica opened before, if any, else none — its agents then get authentication errors, which are
   * faults and never down votes, so no failover follows — and the error is logged once per value.
   */
  private openPassword(cluster: ClusterRow, sealed: string, unreadable: Map<string, string>): { password?: string } {
    try {
      return { password: this.secrets.open(sealed) };
    } catch (err) {
      unreadable.set(cluster.id, cluster.name);
      if (!this.reportedUnreadable.has(sealed)) {
        if (this.reportedUnreadable.size > 10_000) this.reportedUnreadable.clear();
        this.reportedUnreadable.add(sealed);
        this.logger.error(
          { cluster: cluster.name, err: (err as Error).message },
          "cannot open the cluster's sealed Redis password with any configured key (VIGIL_SECRET_KEY, VIGIL_SECRET_KEYS_OLD); keeping the previous one",
        );
      }
      const previous = this.current.clustersById.get(cluster.id)?.redis.password;
      return previous !== undefined ? { password: previous } : {};
    }
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.listen();
    await this.reload();
    this.safetyTimer = setInterval(() => void this.reload(), SAFETY_RELOAD_MS);
    this.pingTimer = setInterval(() => this.pingListener(), LISTENER_PING_MS);
  }

  /** `SELECT 1` on the LISTEN connection; no answer in time drops it and counts PostgreSQL unreachable. */
  private pingListener(): void {
    const client = this.listener;
    if (!client || this.listeningSince === undefined || this.pingInFlight) return;
    this.pingInFlight = true;
    const timer = setTimeout(() => {
      if (this.listener !== client) return;
      this.reloadFailingSince ??= Date.now();
      this.dropListener?.(new Error(`LISTEN connection did not answer within ${LISTENER_PING_TIMEOUT_MS} ms`));
    }, LISTENER_PING_TIMEOUT_MS);
    client
      .query('SELECT 1')
      .catch(() => undefined)
      .finally(() => {
        clearTimeout(timer);
        this.pingInFlight = false;
      });
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.safetyTimer);
    clearInterval(this.pingTimer);
    clearTimeout(this.relistenTimer);
    clearTimeout(this.notifyTimer);
    clearTimeout(this.retryTimer);
    await this.listener?.end().catch(() => undefined);
  }

  get snapshot(): TopologySnapshot {
    return this.current;
  }

  /**
   * Whether this replica can vouch that its snapshot holds every committed change: LISTEN is up and a
   * load started after it began listening (later changes then arrive as notifications), or the last
   * load is very recent. Publishers refuse to answer when it cannot.
   */
  isFresh(now = Date.now()): boolean {
    return canVouch(this.listeningSince, this.loadedFrom, now);
  }

  /**
   * Since when this replica cannot vouch for its snapshot *because PostgreSQL is unreachable*: its
   * LISTEN connection dropped and a reload failed after that, and no load has succeeded since. Undefined
   * otherwise (including the moments between losing LISTEN and the first reload's outcome). Publishers
   * then keep the last committed master where the failsafe vouches for it (`FailsafeService`).
   */
  postgresUnreachableSince(now = Date.now()): number | undefined {
    return this.reloadFailingSince !== undefined && !this.isFresh(now) ? this.reloadFailingSince : undefined;
  }

  /** Called with every new snapshot (synchronously, after it is in place). */
  onChange(fn: (snapshot: TopologySnapshot, change: TopologyChange) => void): void {
    this.listeners.push(fn);
  }

  /** Reloads everything now; concurrent calls share one pass, and a call during a load causes one more after it. */
  reload(): Promise<void> {
    this.pending.full = true;
    return this.drain();
  }

  /** Reloads these clusters (and their nodes) only: a write to them has committed, or a NOTIFY named them. */
  reloadClusters(ids: Iterable<string>): Promise<void> {
    for (const id of ids) this.pending.clusters.add(id);
    return this.drain();
  }

  /** Reloads the registered agents only. */
  reloadAgents(): Promise<void> {
    this.pending.agents = true;
    return this.drain();
  }

  /**
   * Runs the pending work until none is left; every caller waits for the pass that includes its
   * request. Many clusters at once, or a full reload asked, become one full load.
   */
  private drain(): Promise<void> {
    this.reloading ??= this.runPending();
    return this.reloading;
  }

  private async runPending(): Promise<void> {
    await null; // `reloading` is set before the loop runs, and cleared the moment it finds no work left
    try {
      while (!this.stopped && (this.pending.full || this.pending.agents || this.pending.clusters.size > 0)) {
        const work = this.pending;
        this.pending = { full: false, agents: false, clusters: new Set() };
        try {
          if (work.full || work.clusters.size > PARTIAL_RELOAD_MAX) await this.load();
          else await this.loadSome(work.clusters, work.agents);
        } catch (err) {
          if (this.listeningSince === undefined) this.reloadFailingSince ??= Date.now();
          // The change that asked for this load may be missing: vouch for nothing until a full load succeeds.
          else this.loadedFrom = 0;
          this.logger.error({ err: (err as Error).message }, 'topology reload failed; keeping the previous snapshot and retrying');
          this.retryTimer ??= setTimeout(() => {
            this.retryTimer = undefined;
            this.pending.full = true;
            void this.drain();
          }, RELOAD_RETRY_MS);
        }
      }
    } finally {
      this.reloading = undefined;
    }
  }

  /** Everything, from scratch. Only a full load can vouch for the whole snapshot (`loadedFrom`). */
  private async load(): Promise<void> {
    const startedAt = Date.now();
    const [clusters, nodes, agents] = await Promise.all([
      this.db.query<ClusterRow[]>(TOPOLOGY_SQL.clusters()),
      this.db.query<NodeRow[]>(TOPOLOGY_SQL.nodes()),
      this.db.query<AgentRow[]>(TOPOLOGY_SQL.agents),
    ]);
    const byCluster = nodesByCluster(nodes);
    const unreadable = new Map<string, string>();
    const cached = clusters.map((c) => cachedCluster(c, byCluster.get(c.id) ?? [], (sealed) => this.openPassword(c, sealed, unreadable)));
    this.unreadable = unreadable;
    this.install(new TopologySnapshot(cached, Date.now(), agents.map(cachedAgent)), { kind: 'full' });
    this.loadedFrom = startedAt;
    this.reloadFailingSince = undefined;
    this.reloads.inc({ kind: 'full' });
  }

  /** Some clusters (a deleted one drops out) and, if asked, the agents; every other cluster is kept as it is. */
  private async loadSome(ids: ReadonlySet<string>, agents: boolean): Promise<void> {
    const list = [...ids];
    const [clusters, nodes, agentRows] = await Promise.all([
      list.length > 0 ? this.db.query<ClusterRow[]>(TOPOLOGY_SQL.clusters(true), [list]) : [],
      list.length > 0 ? this.db.query<NodeRow[]>(TOPOLOGY_SQL.nodes(true), [list]) : [],
      agents ? this.db.query<AgentRow[]>(TOPOLOGY_SQL.agents) : undefined,
    ]);
    const previous = this.current;
    const byCluster = nodesByCluster(nodes);
    const unreadable = new Map([...this.unreadable].filter(([id]) => !ids.has(id)));
    const fresh = clusters.map((c) => cachedCluster(c, byCluster.get(c.id) ?? [], (sealed) => this.openPassword(c, sealed, unreadable)));
    this.unreadable = unreadable;
    this.install(previous.replacing(ids, fresh, Date.now(), agentRows ? agentRows.map(cachedAgent) : previous.agents), {
      kind: 'clusters',
      ids,
      agents: agentRows !== undefined,
      previous,
    });
    this.reloads.inc({ kind: 'partial' });
  }

  private install(snapshot: TopologySnapshot, change: TopologyChange): void {
    this.current = snapshot;
    for (const fn of this.listeners) {
      try {
        fn(snapshot, change);
      } catch (err) {
        this.logger.error({ err: (err as Error).message }, 'topology listener failed');
      }
    }
  }

  /** A dedicated connection for LISTEN; when it drops, listen again and reload (changes may have been missed). */
  private async listen(): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client({
      connectionString: this.config.databaseUrl,
      application_name: `vigil-listen-${this.config.controllerName}`,
      connectionTimeoutMillis: 1000,
    });
    const retry = (err?: Error) => {
      if (this.listener !== client) return;
      this.listener = undefined;
      this.listeningSince = undefined;
      client.end().catch(() => undefined);
      if (this.stopped) return;
      this.logger.warn({ err: err?.message }, 'topology listener lost; reconnecting');
      // Reload at once: either PostgreSQL still answers (and the snapshot stays vouched for a while) or
      // the failure says it is unreachable, without waiting for the next attempt to listen.
      void this.reload();
      this.relistenTimer = setTimeout(() => void this.listen().then(() => this.reload()), RELISTEN_MS);
    };
    client.on('error', retry);
    client.on('end', () => retry());
    this.dropListener = retry;
    // Bursts of changes (bulk creation, discovery writes) coalesce into one reload.
    client.on('notification', (message) => {
      const payload = message.payload ?? '';
      const id = payload.startsWith(CLUSTER_PREFIX) ? payload.slice(CLUSTER_PREFIX.length) : undefined;
      if (id !== undefined && UUID.test(id)) this.pending.clusters.add(id);
      else if (payload === 'agents') this.pending.agents = true;
      else this.pending.full = true;
      this.notifyTimer ??= setTimeout(() => {
        this.notifyTimer = undefined;
        void this.drain();
      }, NOTIFY_DEBOUNCE_MS);
    });
    this.listener = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
      if (this.listener === client) this.listeningSince = Date.now();
    } catch (err) {
      retry(err as Error);
    }
  }
}
