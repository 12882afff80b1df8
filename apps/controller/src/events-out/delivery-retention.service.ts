import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../config/config.js';
import { LeadershipService } from '../leadership/leadership.service.js';

/** How often the leader prunes the delivery log. */
const PRUNE_EVERY_MS = 3_600_000;
/** Rows deleted per statement, so a large backlog never holds long locks. */
const BATCH = 5000;

/**
 * Keeps the webhook delivery log to `WEBHOOK_DELIVERY_RETENTION_DAYS`: the leader deletes older
 * attempts at start and hourly, in batches. The event log itself is not pruned here.
 */
@Injectable()
export class DeliveryRetention implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(DeliveryRetention.name);
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

  /** Deletes attempts older than the retention; answers how many (0 on a standby). */
  async prune(): Promise<number> {
    if (!this.leadership.isLeader()) return 0;
    let total = 0;
    try {
      for (;;) {
        // Counted by a SELECT over the deleted rows (a bare DELETE's result shape is the driver's).
        const [row] = await this.db.query<{ n: number }[]>(
          `WITH gone AS (
             DELETE FROM webhook_deliveries WHERE id IN (
               SELECT id FROM webhook_deliveries WHERE at < now() - make_interval(days => $1) LIMIT ${BATCH}) RETURNING 1)
           SELECT count(*)::int AS n FROM gone`,
          [this.config.webhookDeliveryRetentionDays],
        );
        const deleted = row?.n ?? 0;
        total += deleted;
        if (deleted < BATCH) break;
      }
      if (total > 0) this.logger.log({ deleted: total, retentionDays: this.config.webhookDeliveryRetentionDays }, 'webhook delivery log pruned');
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'could not prune the webhook delivery log');
    }
    return total;
  }
}
