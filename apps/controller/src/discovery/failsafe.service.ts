import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { AuditService, type EventInput } from '../audit/audit.service.js';
import { PendingEvents } from '../audit/pending-events.js';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../config/config.js';
import type { NodeView } from '../detection/node-view.js';
import { DetectionService } from '../detection/detection.service.js';
import { MetricsService } from '../observability/metrics.service.js';
import type { CachedCluster } from '../topology/topology-cache.service.js';
import { TopologyCache } from '../topology/topology-cache.service.js';
import { failsafeVerdict, type FailsafeVerdict, type NodeSighting } from './failsafe-verdict.js';
import { MasterDirectory, type MasterEntry } from './master-directory.service.js';

/** What a publisher may say about a cluster's master right now. */
export type Publication =
  { kind: 'master'; master: MasterEntry; stale: boolean } | { kind: 'unknown-cluster' } | { kind: 'no-master' } | { kind: 'cannot-vouch'; reason: string };

/** How often entering and leaving failsafe are looked for (and queued events written once PostgreSQL is back). */
const CHECK_MS = 250;
/** Failsafe events waiting for PostgreSQL, at most; older ones are dropped first (and the drop is logged). */
const MAX_PENDING_EVENTS = 100;

/** Summarises what the agents' current views say about each node of a cluster (input of `failsafeVerdict`). */
export function sightings(views: (nodeId: string) => NodeView, cluster: CachedCluster, now: number): NodeSighting[] {
  return cluster.nodes.map((node) => {
    const v = views(node.id);
    return {
      nodeId: node.id,
      voters: v.voters,
      upVotes: v.voters - v.sdownVotes - v.faultVotes,
      sdownVotes: v.sdownVotes,
      ...(v.repl ? { role: v.repl.role, roleAgeMs: Math.max(0, now - v.repl.readAt) } : {}),
      claimedMasterBy: v.claimedMasterBy,
    };
  });
}

/**
 * Failsafe while PostgreSQL is unreachable (Patroni's failsafe mode is the model). Normally publishers
 * answer from the committed topology only while this replica can vouch for it (`TopologyCache.isFresh`).
 * When it cannot *because PostgreSQL is unreachable* — nothing can fail over then, the leader lease lives
 * there — the last committed master is still published where `failsafeVerdict` vouches for it from the
 * agents' current views; every other cluster is unavailable (REST 503, DNS SERVFAIL, Sentinel null).
 * Entering and leaving are logged, a gauge (`vigil_failsafe`) and events; the events are queued in memory
 * (bounded) and written when PostgreSQL is back, with the time they happened.
 */
@Injectable()
export class FailsafeService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(FailsafeService.name);
  private readonly actor: string;
  private timer: NodeJS.Timeout | undefined;
  private enteredAt: number | undefined;
  /** Per cluster, whether the failsafe published its master at the last check (for log lines on change). */
  private published = new Map<string, boolean>();
  private readonly pending: PendingEvents;

  constructor(
    private readonly topology: TopologyCache,
    private readonly directory: MasterDirectory,
    private readonly detection: DetectionService,
    audit: AuditService,
    metrics: MetricsService,
    @Inject(CONTROLLER_CONFIG) config: ControllerConfig,
  ) {
    this.actor = `controller:${config.controllerName}`;
    this.pending = new PendingEvents(audit, this.logger, 'failsafe', MAX_PENDING_EVENTS);
    const active = () => this.active();
    new Gauge({
      name: 'vigil_failsafe',
      help: 'Whether this controller publishes in failsafe (PostgreSQL unreachable: last committed masters the agents vouch for, marked stale)',
      registers: [metrics.registry],
      collect() {
        this.set(active() ? 1 : 0);
      },
    });
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.check(Date.now()), CHECK_MS);
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** Whether this replica is in failsafe now: it cannot vouch for its topology because PostgreSQL is unreachable. */
  active(now = Date.now()): boolean {
    return this.topology.postgresUnreachableSince(now) !== undefined;
  }

  /** What publishers may answer for `name` now (one rule for REST, DNS and the Sentinel endpoint). */
  lookup(name: string, now = Date.now()): Publication {
    const master = this.directory.get(name);
    if (master === undefined) return { kind: 'unknown-cluster' };
    if (this.topology.isFresh(now)) return master === null ? { kind: 'no-master' } : { kind: 'master', master, stale: false };
    if (!this.active(now)) {
      return {
        kind: 'cannot-vouch',
        reason: 'this controller cannot vouch that its topology is current (its notification connection to PostgreSQL is down); ask another replica or retry',
      };
    }
    const verdict = this.verdict(name, now);
    if (master === null || !verdict.publish) {
      return {
        kind: 'cannot-vouch',
        reason: `PostgreSQL is unreachable and the last committed master of ${name} cannot be vouched for: ${verdict.publish ? 'no master was recorded' : verdict.reason}`,
      };
    }
    return { kind: 'master', master, stale: true };
  }

  /** The failsafe verdict on one cluster's last committed master, from the agents' views now. */
  verdict(name: string, now = Date.now()): FailsafeVerdict {
    const cluster = this.directory.snapshot.clustersByName.get(name);
    if (!cluster) return { publish: false, reason: 'no such cluster' };
    const master = this.directory.get(name) ?? null;
    return failsafeVerdict({
      masterNodeId: master?.nodeId ?? null,
      quorum: cluster.quorum,
      nodes: sightings((id) => this.detection.nodeView(id, now), cluster, now),
    });
  }

  private check(now: number): void {
    const since = this.topology.postgresUnreachableSince(now);
    if (since !== undefined) {
      const verdicts = this.topology.snapshot.clusters.map((c) => ({ name: c.name, verdict: this.verdict(c.name, now) }));
      if (this.enteredAt === undefined) {
        this.enteredAt = since;
        this.published = new Map(verdicts.map((v) => [v.name, v.verdict.publish]));
        const clusters = verdicts.map((v) => ({ name: v.name, published: v.verdict.publish, ...(v.verdict.publish ? {} : { reason: v.verdict.reason }) }));
        this.logger.warn(
          {
            since: new Date(since).toISOString(),
            published: clusters.filter((c) => c.published).length,
            unavailable: clusters.filter((c) => !c.published).length,
          },
          'failsafe entered: PostgreSQL is unreachable; publishing the last committed masters the agents vouch for',
        );
        this.queue({ type: 'failsafe.entered', actor: this.actor, data: { at: new Date(since).toISOString(), reason: 'postgres-unreachable', clusters } });
      } else {
        for (const { name, verdict } of verdicts) {
          if (this.published.get(name) === verdict.publish) continue;
          this.published.set(name, verdict.publish);
          if (verdict.publish) this.logger.log({ cluster: name }, 'failsafe: publishing the last committed master again');
          else this.logger.warn({ cluster: name, reason: verdict.reason }, 'failsafe: the last committed master is no longer published');
        }
      }
      return;
    }
    if (this.enteredAt !== undefined) {
      const enteredAt = this.enteredAt;
      this.enteredAt = undefined;
      this.published.clear();
      const clusters = this.topology.snapshot.clusters.map((c) => c.name);
      this.logger.log({ durationMs: now - enteredAt }, 'failsafe left: PostgreSQL is reachable again');
      this.queue({
        type: 'failsafe.left',
        actor: this.actor,
        data: { at: new Date(now).toISOString(), enteredAt: new Date(enteredAt).toISOString(), durationMs: now - enteredAt, clusters },
      });
    }
    if (this.pending.size > 0) void this.pending.flush();
  }

  private queue(event: EventInput): void {
    const dropped = this.pending.add(event);
    if (dropped.length > 0) {
      this.logger.warn(
        { dropped: dropped.map((e: EventInput) => `${e.type}@${String(e.data?.['at'])}`) },
        'failsafe events dropped: too many while PostgreSQL was unreachable',
      );
    }
  }
}
