import type { Logger } from '@nestjs/common';
import type { AuditService, EventInput } from './audit.service.js';

/**
 * Events a service must record even while PostgreSQL does not take them (failsafe, job backend): kept in
 * order, at most `max` (the oldest go first), written in one batch by `flush`; a failed write keeps them.
 */
export class PendingEvents {
  private pending: EventInput[] = [];
  private writing = false;

  constructor(
    private readonly audit: AuditService,
    private readonly logger: Logger,
    private readonly what: string,
    private readonly max = 100,
  ) {}

  get size(): number {
    return this.pending.length;
  }

  /** Queues one event; answers the events dropped to stay within `max`. */
  add(event: EventInput): EventInput[] {
    this.pending.push(event);
    return this.pending.length > this.max ? this.pending.splice(0, this.pending.length - this.max) : [];
  }

  async flush(): Promise<void> {
    if (this.writing || this.pending.length === 0) return;
    this.writing = true;
    const batch = this.pending;
    this.pending = [];
    try {
      await this.audit.recordMany(batch);
    } catch (err) {
      this.pending = [...batch, ...this.pending];
      this.logger.warn({ err: (err as Error).message, events: batch.length }, `could not record ${this.what} events yet; will retry`);
    } finally {
      this.writing = false;
    }
  }
}
