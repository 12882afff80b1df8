import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../config/config.js';

/** An event as the feed delivers it (the shape of `GET /events` items). */
export interface FeedEvent {
  id: string;
  at: string;
  type: string;
  cluster: string | null;
  actor: string;
  data: Record<string, unknown>;
}

/** An `events` row as the feed's queries select it. */
export interface EventRow {
  id: string;
  at: Date;
  type: string;
  cluster_name: string | null;
  actor: string;
  data: Record<string, unknown>;
}

const CHANNEL = 'vigil_events';
/** Ids skipped over are re-read this long: a concurrent writer may commit a lower id after a higher one. */
const GAP_WAIT_MS = 5000;
const BATCH = 500;
const RELISTEN_MS = 1000;
/** Without notifications (listener down), poll this often. */
const POLL_MS = 1000;

/** The columns of an `EventRow`, from `events e` (always order by `e.id`: a bare `id` sorts by the text alias). */
export const SELECT_EVENTS = 'SELECT e.id::text AS id, e.at, e.type, e.cluster_name, e.actor, e.data FROM events e';

export function toFeedEvent(r: EventRow): FeedEvent {
  return { id: String(r.id), at: r.at.toISOString(), type: r.type, cluster: r.cluster_name, actor: r.actor, data: r.data };
}

/**
 * The event log as a live stream on every controller replica. A trigger on `events` sends
 * `NOTIFY vigil_events`; the feed then reads the rows after the last id it delivered, in id order.
 * Ids are handed out before commit, so a lower id can become visible after a higher one: a gap is
 * remembered and re-read for a few seconds before it is taken for a rolled-back insert.
 */
@Injectable()
export class EventFeed implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(EventFeed.name);
  private readonly subscribers = new Set<(event: FeedEvent) => void>();
  private lastId = 0n;
  private readonly gaps = new Map<bigint, number>();
  private listener: pg.Client | undefined;
  private reading: Promise<void> | undefined;
  private readAgain = false;
  /** A read is queued for the notifications that arrived in this turn of the event loop. */
  private readQueued = false;
  private stopped = false;
  private pollTimer: NodeJS.Timeout | undefined;
  private relistenTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(CONTROLLER_CONFIG) private readonly config: ControllerConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const [row] = await this.db.query<{ id: string | null }[]>(`SELECT max(id)::text AS id FROM events`);
    this.lastId = BigInt(row?.id ?? 0);
    await this.listen();
    this.pollTimer = setInterval(() => {
      if (!this.listener || this.gaps.size > 0) void this.read();
    }, POLL_MS);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.pollTimer);
    clearTimeout(this.relistenTimer);
    clearTimeout(this.retryTimer);
    const l = this.listener;
    this.listener = undefined;
    await l?.end().catch(() => undefined);
  }

  /** The id of the newest event delivered so far (a resumable stream's starting point). */
  get position(): string {
    return this.lastId.toString();
  }

  /** Calls `fn` with every new event, in id order, until the returned function is called. */
  subscribe(fn: (event: FeedEvent) => void): () => void {
    this.subscribers.add(fn);
    return () => this.subscribers.delete(fn);
  }

  /** Events after `afterId` up to the feed's position, oldest first (for a stream that resumes). */
  async since(afterId: string, cluster: string | undefined, limit: number): Promise<FeedEvent[]> {
    const rows = await this.db.query<EventRow[]>(
      `${SELECT_EVENTS}
        WHERE e.id > $1 AND e.id <= $2 AND ($3::text IS NULL OR e.cluster_name = $3) ORDER BY e.id LIMIT $4`,
      [afterId, this.position, cluster ?? null, limit],
    );
    return rows.map(toFeedEvent);
  }

  private read(): Promise<void> {
    if (this.reading) {
      this.readAgain = true;
      return this.reading;
    }
    this.reading = (async () => {
      do {
        this.readAgain = false;
        try {
          await this.readOnce();
        } catch (err) {
          this.logger.warn({ err: (err as Error).message }, 'event feed read failed; retried in a second');
          // The notifications that asked for this read are spent: read again without waiting for the next one.
          if (!this.stopped)
            this.retryTimer ??= setTimeout(() => {
              this.retryTimer = undefined;
              void this.read();
            }, POLL_MS);
        }
      } while (this.readAgain && !this.stopped);
    })().finally(() => (this.reading = undefined));
    return this.reading;
  }

  private async readOnce(): Promise<void> {
    if (this.gaps.size > 0) {
      const now = Date.now();
      const ids = [...this.gaps.keys()].map(String);
      const late = await this.db.query<EventRow[]>(`${SELECT_EVENTS} WHERE e.id = ANY($1::bigint[]) ORDER BY e.id`, [ids]);
      for (const r of late) {
        this.gaps.delete(BigInt(r.id));
        this.deliver(toFeedEvent(r));
      }
      for (const [id, seen] of this.gaps) if (now - seen > GAP_WAIT_MS) this.gaps.delete(id);
    }
    for (;;) {
      const rows = await this.db.query<EventRow[]>(`${SELECT_EVENTS} WHERE e.id > $1 ORDER BY e.id LIMIT ${BATCH}`, [this.lastId.toString()]);
      for (const r of rows) {
        const id = BigInt(r.id);
        for (let missing = this.lastId + 1n; missing < id && this.gaps.size < 10_000; missing++) this.gaps.set(missing, Date.now());
        this.lastId = id;
        this.deliver(toFeedEvent(r));
      }
      if (rows.length < BATCH) return;
    }
  }

  private deliver(event: FeedEvent): void {
    for (const fn of this.subscribers) {
      try {
        fn(event);
      } catch (err) {
        this.logger.error({ err: (err as Error).message }, 'event feed subscriber failed');
      }
    }
  }

  private async listen(): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client({ connectionString: this.config.databaseUrl, application_name: `vigil-events-${this.config.controllerName}` });
    const retry = (err?: Error) => {
      if (this.listener !== client) return;
      this.listener = undefined;
      client.end().catch(() => undefined);
      if (this.stopped) return;
      this.logger.warn({ err: err?.message }, 'event listener lost; reconnecting');
      this.relistenTimer = setTimeout(() => void this.listen().then(() => this.read()), RELISTEN_MS);
    };
    client.on('error', retry);
    client.on('end', () => retry());
    // One NOTIFY per event: the ones a commit sends arrive together, and are read once.
    client.on('notification', () => {
      if (this.readQueued) return;
      this.readQueued = true;
      setImmediate(() => {
        this.readQueued = false;
        void this.read();
      });
    });
    this.listener = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
    } catch (err) {
      retry(err as Error);
    }
  }
}
