import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../config/config.js';
import { LeadershipService } from '../leadership/leadership.service.js';

/** How often the leader prunes the logs. */
const PRUNE_EVERY_MS = 3_600_000;
/** Rows deleted per statement, so a large backlog never holds long locks. */
const BATCH = 5000;

/**
 * Keeps the webhook delivery log to `WEBHOOK_DELIVERY_RETENTION_DAYS` and the event log to
 * `EVENT_RETENTION_DAYS` (0: kept for ever): the leader deletes older rows at start and hourly, in
 * batches. An event the webhook dispatcher has not handed out yet is kept whatever its age, so a
 * backlog of deliveries is never cut short.
 */
@Injectable()
export class LogRetention implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(LogRetention.name);
  private timer: NodeJS.Timeout | undefined;
  private first: NodeJS.Timeout | undefined;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly leadership: LeadershipService,
    @Inject(CONTROLLER_CONFIG) private readonly config: ControllerConfig,
  ) {}

  onApplicationBootstrap(): void {
    // Soon after start (once leadership has had a chance to settle), then hourly.
    this.first = setTimeout(() => void this.prune(), 5000);
    this.timer = setInterval(() => void this.prune(), PRUNE_EVERY_MS);
  }

  onApplicationShutdown(): void {
    clearTimeout(this.first);
    clearInterval(this.timer);
  }

  /** Deletes what is older than each retention; answers how many rows of each (0 on a standby). */
  async prune(): Promise<{ deliveries: number; events: number }> {
    if (!this.leadership.isLeader()) return { deliveries: 0, events: 0 };
    const deliveries = await this.pruneTable(
      'webhook delivery log',
      `SELECT id FROM webhook_deliveries WHERE at < now() - make_interval(days => $1) LIMIT ${BATCH}`,
      'webhook_deliveries',
      this.config.webhookDeliveryRetentionDays,
    );
    const events =
      this.config.eventRetentionDays === 0
        ? 0
        : await this.pruneTable(
            'event log',
            `SELECT id FROM events
              WHERE at < now() - make_interval(days => $1)
                AND id <= coalesce((SELECT last_event_id FROM webhook_cursor), 0)
              ORDER BY id LIMIT ${BATCH}`,
            'events',
            this.config.eventRetentionDays,
          );
    return { deliveries, events };
  }

  /** Deletes the rows `select` picks, a batch at a time, until a batch comes back short. */
  private async pruneTable(what: string, select: string, table: string, days: number): Promise<number> {
    let total = 0;
    try {
      for (;;) {
        // Counted by a SELECT over the deleted rows (a bare DELETE's result shape is the driver's). The
        // event log refuses a DELETE unless the transaction says it is this pruning (its trigger).
        const [row] = await this.db.transaction(async (em) => {
          await em.query(`SET LOCAL vigil.pruning = 'on'`);
          return em.query<{ n: number }[]>(`WITH gone AS (DELETE FROM ${table} WHERE id IN (${select}) RETURNING 1) SELECT count(*)::int AS n FROM gone`, [
            days,
          ]);
        });
        const deleted = row?.n ?? 0;
        total += deleted;
        if (deleted < BATCH) break;
      }
      if (total > 0) this.logger.log({ deleted: total, retentionDays: days }, `${what} pruned`);
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, `could not prune the ${what}`);
    }
    return total;
  }
}
