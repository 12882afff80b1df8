import { type BeforeApplicationShutdown, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Counter, Gauge } from 'prom-client';
import { DataSource } from 'typeorm';
import { type EventRow, EventFeed, type FeedEvent, SELECT_EVENTS, toFeedEvent } from '../audit/event-feed.service.js';
import { ErrorCode, VigilError } from '../common/errors.js';
import { MetricsService } from '../observability/metrics.service.js';
import { type CloseReason, SseConnection, type SseResponse, type StreamFilter, type StreamLimits, type StreamSource } from './sse-connection.js';

const HEARTBEAT_MS = 15_000;

export const STREAM_LIMITS: StreamLimits = {
  maxQueuedBytes: 1024 * 1024,
  replayPage: 200,
};

/**
 * The open server-sent event streams of this replica: heartbeats, and a clean end when the app shuts
 * down. Streams follow `EventFeed` live and replay from the `events` table.
 */
@Injectable()
export class EventStreamService implements StreamSource, OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger(EventStreamService.name);
  private readonly streams = new Set<SseConnection>();
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private closing = false;
  private readonly closedTotal: Counter<'reason'>;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly feed: EventFeed,
    metrics: MetricsService,
  ) {
    const streams = this.streams;
    new Gauge({
      name: 'vigil_event_streams',
      help: 'Open server-sent event streams on this controller replica',
      registers: [metrics.registry],
      collect() {
        this.set(streams.size);
      },
    });
    this.closedTotal = new Counter({
      name: 'vigil_event_streams_closed_total',
      help: 'Server-sent event streams closed, by reason (client, shutdown, slow = dropped for unread data, error)',
      labelNames: ['reason'] as const,
      registers: [metrics.registry],
    });
  }

  onModuleInit(): void {
    this.heartbeatTimer = setInterval(() => {
      for (const stream of this.streams) stream.heartbeat();
    }, HEARTBEAT_MS);
    this.heartbeatTimer.unref();
  }

  /** Ends every stream before the HTTP server closes, so clients see a finished response and reconnect. */
  beforeApplicationShutdown(): void {
    this.closing = true;
    clearInterval(this.heartbeatTimer);
    for (const stream of [...this.streams]) stream.end();
  }

  open(res: SseResponse, filter: StreamFilter, lastEventId: string | undefined): void {
    if (this.closing) throw new VigilError(ErrorCode.UNAVAILABLE, 'this controller is shutting down; reconnect (to another replica)');
    const stream = new SseConnection(res, this, filter, lastEventId, STREAM_LIMITS, (closed, reason, error) => this.closed(closed, reason, error));
    this.streams.add(stream);
    stream.open();
  }

  get position(): string {
    return this.feed.position;
  }

  subscribe(fn: (event: FeedEvent) => void): () => void {
    return this.feed.subscribe(fn);
  }

  /** Events after `afterId` up to the feed's position (later ones arrive live), in id order. */
  async since(afterId: string, cluster: string | undefined, limit: number): Promise<FeedEvent[]> {
    const rows = await this.db.query<EventRow[]>(
      `${SELECT_EVENTS}
        WHERE e.id > $1 AND e.id <= $2 AND ($3::text IS NULL OR e.cluster_name = $3) ORDER BY e.id LIMIT $4`,
      [afterId, this.feed.position, cluster ?? null, limit],
    );
    return rows.map(toFeedEvent);
  }

  private closed(stream: SseConnection, reason: CloseReason, error?: Error): void {
    this.streams.delete(stream);
    this.closedTotal.inc({ reason });
    if (reason === 'slow') this.logger.warn({ maxQueuedBytes: STREAM_LIMITS.maxQueuedBytes }, 'dropped an event stream whose client does not keep up');
    if (reason === 'error') this.logger.warn({ err: error?.message }, 'event stream failed');
  }
}
