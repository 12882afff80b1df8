import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { EventFeed } from '../audit/event-feed.service.js';
import type { TopologySnapshot } from '../topology/topology-cache.service.js';
import type { FailoverSummary } from './cluster-overview.js';

/** While a failover runs its phase moves without an event: re-read at most this old. */
const RUNNING_MAX_AGE_MS = 1000;
/** Otherwise events say when to re-read; this is the safety net. */
const IDLE_MAX_AGE_MS = 10_000;
/** A request waits this long for a re-read, then answers from the last one (PostgreSQL may be unreachable). */
const REFRESH_WAIT_MS = 500;

const RELEVANT_EVENT = /^(failover\.|master\.changed$|cluster\.maintenance_)/;

interface FailoverRow {
  id: string;
  cluster_id: string;
  trigger: string;
  outcome: string;
  state: string;
  from_address: string | null;
  to_address: string | null;
  started_at: Date;
  finished_at: Date | null;
}

export interface ClusterHistory {
  running: FailoverSummary | null;
  lastFinished: FailoverSummary | null;
}

const summary = (r: FailoverRow): FailoverSummary => ({
  id: r.id,
  trigger: r.trigger,
  outcome: r.outcome,
  state: r.state,
  from: r.from_address,
  to: r.to_address,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
});

/**
 * What the overview needs from PostgreSQL, kept in memory: each cluster's running failover and latest
 * finished one (one query for all clusters), and the reason of each current maintenance (one query for
 * the clusters in maintenance). Re-read when the event feed says a failover or a maintenance changed,
 * when a cluster enters maintenance, every second while a failover runs (its phase has no event), and
 * every 10 s regardless. A request never waits more than 0.5 s for a re-read.
 */
@Injectable()
export class OverviewHistory implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(OverviewHistory.name);
  private failovers = new Map<string, ClusterHistory>();
  private reasons = new Map<string, string | null>();
  private loadedAt = 0;
  private dirty = true;
  private refreshing: Promise<void> | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly feed: EventFeed,
  ) {}

  onApplicationBootstrap(): void {
    this.unsubscribe = this.feed.subscribe((e) => {
      if (RELEVANT_EVENT.test(e.type)) this.dirty = true;
    });
  }

  onApplicationShutdown(): void {
    this.unsubscribe?.();
  }

  /** Brings the history up to date for `snapshot` if needed (waiting at most 0.5 s), then answers it per cluster id. */
  async current(
    snapshot: TopologySnapshot,
    now = Date.now(),
  ): Promise<{ failovers: ReadonlyMap<string, ClusterHistory>; reasons: ReadonlyMap<string, string | null> }> {
    const inMaintenance = maintenanceKeys(snapshot, now);
    const running = [...this.failovers.values()].some((h) => h.running !== null);
    const age = now - this.loadedAt;
    const stale = this.dirty || age > (running ? RUNNING_MAX_AGE_MS : IDLE_MAX_AGE_MS) || [...inMaintenance.keys()].some((k) => !this.reasons.has(k));
    if (stale) {
      this.refreshing ??= this.refresh(snapshot, inMaintenance).finally(() => (this.refreshing = undefined));
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.refreshing, new Promise((resolve) => (timer = setTimeout(resolve, REFRESH_WAIT_MS)))]);
      clearTimeout(timer);
    }
    const reasons = new Map<string, string | null>();
    for (const [key, clusterId] of inMaintenance) reasons.set(clusterId, this.reasons.get(key) ?? null);
    return { failovers: this.failovers, reasons };
  }

  private async refresh(snapshot: TopologySnapshot, inMaintenance: Map<string, string>): Promise<void> {
    const startedAt = Date.now();
    this.dirty = false;
    try {
      const rows = await this.db.query<FailoverRow[]>(
        `SELECT DISTINCT ON (cluster_id, outcome = 'running')
                id, cluster_id, trigger, outcome, state, from_address, to_address, started_at, finished_at
           FROM failovers
          WHERE cluster_id IS NOT NULL
          ORDER BY cluster_id, outcome = 'running', started_at DESC`,
      );
      const failovers = new Map<string, ClusterHistory>();
      for (const r of rows) {
        const h = failovers.get(r.cluster_id) ?? { running: null, lastFinished: null };
        if (r.outcome === 'running') h.running = summary(r);
        else h.lastFinished = summary(r);
        failovers.set(r.cluster_id, h);
      }
      const reasons = new Map<string, string | null>();
      if (inMaintenance.size > 0) {
        const ids = [...inMaintenance.values()];
        const names = ids.map((id) => snapshot.clustersById.get(id)!.name);
        const latest = await this.db.query<{ cluster_id: string; type: string; until: string | null; reason: string | null }[]>(
          `SELECT DISTINCT ON (cluster_id) cluster_id, type, data->>'until' AS until, data->>'reason' AS reason
             FROM events
            WHERE cluster_name = ANY($1) AND cluster_id = ANY($2::uuid[])
              AND type IN ('cluster.maintenance_started', 'cluster.maintenance_ended')
            ORDER BY cluster_id, at DESC, id DESC`,
          [names, ids],
        );
        for (const [key, id] of inMaintenance) {
          const e = latest.find((x) => x.cluster_id === id);
          // The reason belongs to this maintenance only if its event set the same end.
          const same = e?.type === 'cluster.maintenance_started' && e.until !== null && `${id}@${Date.parse(e.until)}` === key;
          reasons.set(key, same ? e.reason : null);
        }
      }
      this.failovers = failovers;
      this.reasons = reasons;
      this.loadedAt = startedAt;
    } catch (err) {
      this.dirty = true;
      this.logger.warn({ err: (err as Error).message }, 'overview: could not read the failover history; answering from the last reading');
    }
  }
}

/** `clusterId@until` → cluster id, for every cluster in maintenance now. */
function maintenanceKeys(snapshot: TopologySnapshot, now: number): Map<string, string> {
  const keys = new Map<string, string>();
  for (const c of snapshot.clusters) {
    const until = c.maintenanceUntil?.getTime();
    if (until !== undefined && until > now) keys.set(`${c.id}@${until}`, c.id);
  }
  return keys;
}
