import { randomUUID } from 'node:crypto';
import { type BeforeApplicationShutdown, Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { EventFeed } from '../audit/event-feed.service.js';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../config/config.js';
import { JobsService } from '../jobs/jobs.service.js';
import { deliverWebhookJobOptions, QUEUES, WEBHOOK_JOBS } from '../jobs/queues.js';
import { LeadershipService } from '../leadership/leadership.service.js';
import { advanceCursor, type DispatchHook, hookWants } from './webhook-dispatch.js';

const TICK_MS = 1000;
/** New events come in bursts (one per row of a multi-row insert): one pass after the burst. */
const DEBOUNCE_MS = 25;
const BATCH = 500;
const ADD_CHUNK = 1000;
/** A missing id is looked at again this soon. */
const GAP_RETRY_MS = 250;
/** Time given to the writer of a missing id to have a transaction id before the in-progress ones are listed. */
const GAP_MIN_MS = 200;
/** A missing id is given up after this long even if transactions of the time are still open. */
const GAP_MAX_MS = 30_000;

/** A missing id below `horizon` (the newest id seen when it was noticed), and the transactions that may hold it. */
interface Gap {
  horizon: bigint;
  seenAt: number;
  /** `pg_current_snapshot()` taken at least GAP_MIN_MS after `seenAt`. */
  snapshot?: string;
}

/**
 * Turns new events into webhook delivery jobs, on the leader only. It reads the events after a cursor
 * kept in PostgreSQL (`webhook_cursor`, locked while it works so two replicas that both believe they
 * lead take turns), adds one job per event and matching webhook, then moves the cursor. Each job's id
 * is `webhook.<webhookId>.<eventId>`: a pass that runs again over the same events (a crash between
 * adding the jobs and moving the cursor, a leader change) adds nothing twice, and none is lost.
 *
 * Ids are handed out before commit, so the cursor never moves past a missing id until the
 * transactions that could still commit it have ended (listed with `pg_current_snapshot()`).
 */
@Injectable()
export class WebhookDispatcher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(WebhookDispatcher.name);
  private unsubscribe: (() => void) | undefined;
  private tickTimer: NodeJS.Timeout | undefined;
  private soonTimer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private runAgain = false;
  private stopped = false;
  /** Missing ids at or below this belong to transactions that ended without them. */
  private settledThrough = 0n;
  private gap: Gap | undefined;
  private readonly onLeadership = (leading: boolean) => {
    if (leading) void this.kick();
  };

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly feed: EventFeed,
    private readonly leadership: LeadershipService,
    private readonly jobs: JobsService,
    @Inject(CONTROLLER_CONFIG) private readonly config: ControllerConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.unsubscribe = this.feed.subscribe(() => this.kickSoon(DEBOUNCE_MS));
    this.tickTimer = setInterval(() => void this.kick(), TICK_MS);
    this.leadership.changes.on('change', this.onLeadership);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    clearInterval(this.tickTimer);
    clearTimeout(this.soonTimer);
    this.leadership.changes.off('change', this.onLeadership);
    await this.running;
  }

  /** One dispatcher pass now, on the leader; called while one runs, it makes that one go round again. */
  kick(): Promise<void> {
    if (this.stopped || !this.leadership.isLeader()) return Promise.resolve();
    if (this.running) {
      this.runAgain = true;
      return this.running;
    }
    this.running = (async () => {
      let more = true;
      while ((more || this.runAgain) && !this.stopped && this.leadership.isLeader()) {
        this.runAgain = false;
        try {
          more = await this.dispatchBatch();
        } catch (err) {
          this.logger.warn({ err: (err as Error).message }, 'webhook dispatch failed; retried on the next tick');
          return;
        }
      }
    })().finally(() => (this.running = undefined));
    return this.running;
  }

  private kickSoon(ms: number): void {
    if (this.soonTimer || this.stopped) return;
    this.soonTimer = setTimeout(() => {
      this.soonTimer = undefined;
      void this.kick();
    }, ms);
  }

  /** One batch of events after the cursor; true when more may follow at once. */
  private async dispatchBatch(): Promise<boolean> {
    const step = await this.db.transaction(async (em): Promise<{ more: boolean; blockedAt?: bigint; newest?: bigint }> => {
      const [row] = await em.query<{ id: string }[]>(`SELECT last_event_id::text AS id FROM webhook_cursor FOR UPDATE`);
      if (!row) throw new Error('webhook_cursor has no row');
      const cursor = BigInt(row.id);
      const events = (
        await em.query<{ id: string; type: string; cluster_id: string | null }[]>(
          `SELECT e.id::text AS id, e.type, e.cluster_id FROM events e WHERE e.id > $1 ORDER BY e.id LIMIT ${BATCH}`,
          [row.id],
        )
      ).map((e) => ({ id: BigInt(e.id), type: e.type, clusterId: e.cluster_id }));
      if (events.length === 0) return { more: false };
      const moved = advanceCursor(
        cursor,
        events.map((e) => e.id),
        this.settledThrough,
      );
      if (moved.accepted > 0) {
        const hooks = (
          await em.query<{ id: string; cluster_id: string | null; types: string[] | null; start_after: string }[]>(
            `SELECT id, cluster_id, types, start_after_event_id::text AS start_after FROM webhooks`,
          )
        ).map((h): DispatchHook => ({ id: h.id, clusterId: h.cluster_id, types: h.types, startAfter: BigInt(h.start_after) }));
        const jobs = events.slice(0, moved.accepted).flatMap((event) =>
          hooks
            .filter((hook) => hookWants(hook, event))
            .map((hook) => {
              const eventId = event.id.toString();
              return {
                name: WEBHOOK_JOBS.deliver,
                data: { webhookId: hook.id, eventId, deliveryId: randomUUID() },
                opts: deliverWebhookJobOptions(hook.id, eventId, this.config.webhookRetryBaseMs),
              };
            }),
        );
        for (let i = 0; i < jobs.length; i += ADD_CHUNK) await this.jobs.addBulk(QUEUES.webhooks, jobs.slice(i, i + ADD_CHUNK));
        await em.query(`UPDATE webhook_cursor SET last_event_id = $1, updated_at = now()`, [moved.cursor.toString()]);
      }
      return { more: moved.blockedAt === undefined && events.length === BATCH, blockedAt: moved.blockedAt, newest: events[events.length - 1]!.id };
    });
    if (step.blockedAt !== undefined) await this.watchGap(step.blockedAt, step.newest!);
    return step.more;
  }

  /**
   * A missing id stops the cursor. Its writer called for the id before the newest visible event got
   * its own, so once it has had a moment to get a transaction id, it is one of the transactions then
   * in progress: when none of those is left, the id will never appear.
   */
  private async watchGap(blockedAt: bigint, newest: bigint): Promise<void> {
    const now = Date.now();
    if (!this.gap || blockedAt > this.gap.horizon) {
      this.gap = { horizon: newest, seenAt: now };
    } else if (now - this.gap.seenAt >= GAP_MIN_MS) {
      if (this.gap.snapshot === undefined) {
        const [s] = await this.db.query<{ snapshot: string }[]>(`SELECT pg_current_snapshot()::text AS snapshot`);
        this.gap.snapshot = s!.snapshot;
      } else {
        const [open] = await this.db.query<{ n: number }[]>(
          `SELECT count(*)::int AS n FROM pg_snapshot_xip($1::pg_snapshot) AS x WHERE pg_xact_status(x) = 'in progress'`,
          [this.gap.snapshot],
        );
        const overdue = now - this.gap.seenAt > GAP_MAX_MS;
        if (open!.n === 0 || overdue) {
          if (overdue) this.logger.warn({ below: this.gap.horizon.toString(), openTransactions: open!.n }, 'gave up waiting for a missing event id');
          this.settledThrough = this.gap.horizon;
          this.gap = undefined;
          this.runAgain = true;
          return;
        }
      }
    }
    this.kickSoon(GAP_RETRY_MS);
  }
}
