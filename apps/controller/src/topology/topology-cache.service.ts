import { createHash } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import pg from 'pg';
import { Gauge } from 'prom-client';
import { DataSource } from 'typeorm';
import type { AgentAssignment } from '../../../../libs/contracts/src/index.js';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../config/config.js';
import { MetricsService } from '../observability/metrics.service.js';
import type { NodeEntity } from './node.entity.js';
import { SecretBox } from './secret-box.js';

/** A node as the in-memory topology holds it. */
export interface CachedNode {
  id: string;
  clusterId: string;
  host: string;
  port: number;
  role: NodeEntity['role'];
  priority: number;
  zone: string | null;
  /** The cluster epoch the role was recorded under. */
  roleEpoch: number;
}

/** A cluster as the in-memory topology holds it (with the Redis password opened, never sent to users). */
export interface CachedCluster {
  id: string;
  name: string;
  quorum: number;
  downAfterMs: number;
  epoch: number;
  autoFailover: boolean;
  requireMasterDeadEvidence: boolean;
  maintenanceUntil: Date | null;
  cooldownMs: number;
  failoverTimeoutMs: number;
  minReplicasToWrite: number;
  minReplicasMaxLagS: number;
  maxReplicaLagBytes: number;
  /** When the recorded master became master. */
  masterSince: Date | null;
  /** Names written to an external DNS server for the master, and their TTL (null: DNS_TTL). */
  dnsNames: string[];
  dnsTtl: number | null;
  redis: { username?: string; password?: string; tls: boolean };
  nodes: CachedNode[];
}

/** A registered agent as the in-memory topology holds it (what detection needs for its denominators). */
export interface CachedAgent {
  id: string;
  name: string;
  zone: string;
  /** Cluster names this agent watches; null = every cluster. */
  watchClusters: string[] | null;
}

/** One consistent picture of all clusters, nodes and registered agents, replaced as a whole on every reload. */
export class TopologySnapshot {
  readonly clustersById = new Map<string, CachedCluster>();
  readonly clustersByName = new Map<string, CachedCluster>();
  readonly nodesById = new Map<string, CachedNode>();
  /** Cluster id → ids of the registered agents that watch it, reporting or not (detection's ODOWN denominator). */
  readonly assignedAgents = new Map<string, ReadonlySet<string>>();
  readonly assignment: AgentAssignment;

  constructor(
    readonly clusters: CachedCluster[],
    readonly loadedAt: number,
    readonly agents: readonly CachedAgent[] = [],
  ) {
    for (const c of clusters) {
      this.clustersById.set(c.id, c);
      this.clustersByName.set(c.name, c);
      for (const n of c.nodes) this.nodesById.set(n.id, n);
      this.assignedAgents.set(c.id, new Set(agents.filter((a) => a.watchClusters === null || a.watchClusters.includes(c.name)).map((a) => a.id)));
    }
    const body = clusters.map((c) => ({
      id: c.id,
      name: c.name,
      downAfterMs: c.downAfterMs,
      redis: c.redis,
      nodes: c.nodes.map((n) => ({ id: n.id, host: n.host, port: n.port })),
    }));
    // The version is a digest of the content, so every controller replica derives the same one. Agents
    // are not part of it: registering one must not make every agent fetch its assignment again.
    const version = createHash('sha256').update(JSON.stringify(body)).digest('base64url').slice(0, 22);
    this.assignment = { version, clusters: body };
  }
}

interface ClusterRow {
  id: string;
  name: string;
  quorum: number;
  down_after_ms: number;
  epoch: string;
  auto_failover: boolean;
  require_master_dead_evidence: boolean;
  maintenance_until: Date | null;
  cooldown_ms: number;
  failover_timeout_ms: number;
  min_replicas_to_write: number;
  min_replicas_max_lag_s: number;
  max_replica_lag_bytes: string;
  redis_username: string | null;
  redis_password_sealed: string | null;
  redis_tls: boolean;
  master_since: Date | null;
  dns_names: string[];
  dns_ttl: number | null;
}

interface AgentRow {
  id: string;
  name: string;
  zone: string;
  watch_clusters: string[] | null;
}

interface NodeRow {
  id: string;
  cluster_id: string;
  host: string;
  port: number;
  role: NodeEntity['role'];
  priority: number;
  zone: string | null;
  role_epoch: string;
}

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
 */
@Injectable()
export class TopologyCache implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(TopologyCache.name);
  private readonly secrets: SecretBox;
  private readonly listeners: ((snapshot: TopologySnapshot) => void)[] = [];
  private current = new TopologySnapshot([], 0);
  private reloading: Promise<void> | undefined;
  private reloadAgain = false;
  private listener: pg.Client | undefined;
  private safetyTimer: NodeJS.Timeout | undefined;
  private relistenTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private notifyTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private pingInFlight = false;
  /** Drops the current listener as failed (set by `listen`). */
  private dropListener: ((err: Error) => void) | undefined;
  /** When LISTEN last succeeded (undefined while the listener is down). */
  private listeningSince: number | undefined;
  /** When the query of the current snapshot started (changes committed before it are in it). */
  private loadedFrom = 0;
  /** Clusters whose sealed Redis password no configured key opens, as of the last load. */
  private unreadable: string[] = [];
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
    const unreadable = () => this.unreadable.length;
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
  unreadableSecrets(): readonly string[] {
    return this.unreadable;
  }

  /**
   * Opens a cluster's Redis password. A value no configured key opens (sealed by a replica holding a key
   * this one lacks) must not stop the whole topology from loading: the cluster keeps the password this
   * replica opened before, if any, else none — its agents then get authentication errors, which are
   * faults and never down votes, so no failover follows — and the error is logged once per value.
   */
  private openPassword(clusterId: string, clusterName: string, sealed: string, unreadable: string[]): { password?: string } {
    try {
      return { password: this.secrets.open(sealed) };
    } catch (err) {
      unreadable.push(clusterName);
      if (!this.reportedUnreadable.has(sealed)) {
        if (this.reportedUnreadable.size > 10_000) this.reportedUnreadable.clear();
        this.reportedUnreadable.add(sealed);
        this.logger.error(
          { cluster: clusterName, err: (err as Error).message },
          "cannot open the cluster's sealed Redis password with any configured key (VIGIL_SECRET_KEY, VIGIL_SECRET_KEYS_OLD); keeping the previous one",
        );
      }
      const previous = this.current.clustersById.get(clusterId)?.redis.password;
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
  onChange(fn: (snapshot: TopologySnapshot) => void): void {
    this.listeners.push(fn);
  }

  /** Reloads now; concurrent calls share one load, and a call during a load causes one more after it. */
  reload(): Promise<void> {
    if (this.reloading) {
      this.reloadAgain = true;
      return this.reloading;
    }
    this.reloading = (async () => {
      do {
        this.reloadAgain = false;
        try {
          await this.load();
        } catch (err) {
          if (this.listeningSince === undefined) this.reloadFailingSince ??= Date.now();
          this.logger.error({ err: (err as Error).message }, 'topology reload failed; keeping the previous snapshot');
        }
      } while (this.reloadAgain && !this.stopped);
    })().finally(() => {
      this.reloading = undefined;
    });
    return this.reloading;
  }

  private async load(): Promise<void> {
    const startedAt = Date.now();
    // Plain rows, not entities: this runs on every topology change, for every cluster.
    const [clusters, nodes, agents] = await Promise.all([
      this.db.query<ClusterRow[]>(
        `SELECT id, name, quorum, down_after_ms, epoch::text AS epoch, auto_failover, require_master_dead_evidence, maintenance_until, cooldown_ms, failover_timeout_ms,
                min_replicas_to_write, min_replicas_max_lag_s, max_replica_lag_bytes::text AS max_replica_lag_bytes,
                redis_username, redis_password_sealed, redis_tls, master_since, dns_names, dns_ttl
           FROM clusters ORDER BY name`,
      ),
      this.db.query<NodeRow[]>(`SELECT id, cluster_id, host, port, role, priority, zone, role_epoch::text AS role_epoch FROM nodes ORDER BY host, port`),
      this.db.query<AgentRow[]>(`SELECT id, name, zone, watch_clusters FROM agents ORDER BY name`),
    ]);
    const byCluster = new Map<string, CachedNode[]>();
    for (const n of nodes) {
      const list = byCluster.get(n.cluster_id) ?? [];
      list.push({
        id: n.id,
        clusterId: n.cluster_id,
        host: n.host,
        port: n.port,
        role: n.role,
        priority: n.priority,
        zone: n.zone,
        roleEpoch: Number(n.role_epoch),
      });
      byCluster.set(n.cluster_id, list);
    }
    const unreadable: string[] = [];
    const cached = clusters.map((c) => ({
      id: c.id,
      name: c.name,
      quorum: c.quorum,
      downAfterMs: c.down_after_ms,
      epoch: Number(c.epoch),
      autoFailover: c.auto_failover,
      requireMasterDeadEvidence: c.require_master_dead_evidence,
      maintenanceUntil: c.maintenance_until,
      cooldownMs: c.cooldown_ms,
      failoverTimeoutMs: c.failover_timeout_ms,
      minReplicasToWrite: c.min_replicas_to_write,
      minReplicasMaxLagS: c.min_replicas_max_lag_s,
      maxReplicaLagBytes: Number(c.max_replica_lag_bytes),
      masterSince: c.master_since,
      dnsNames: c.dns_names,
      dnsTtl: c.dns_ttl,
      redis: {
        ...(c.redis_username ? { username: c.redis_username } : {}),
        ...(c.redis_password_sealed ? this.openPassword(c.id, c.name, c.redis_password_sealed, unreadable) : {}),
        tls: c.redis_tls,
      },
      nodes: byCluster.get(c.id) ?? [],
    }));
    this.current = new TopologySnapshot(
      cached,
      Date.now(),
      agents.map((a) => ({ id: a.id, name: a.name, zone: a.zone, watchClusters: a.watch_clusters })),
    );
    this.unreadable = unreadable;
    this.loadedFrom = startedAt;
    this.reloadFailingSince = undefined;
    for (const fn of this.listeners) {
      try {
        fn(this.current);
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
    client.on('notification', () => {
      this.notifyTimer ??= setTimeout(() => {
        this.notifyTimer = undefined;
        void this.reload();
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
