import type { FeedEvent } from '../audit/event-feed.service.js';
import { eventFrame, HEARTBEAT_FRAME, StreamSequencer } from './sse.js';

/** The part of an HTTP response a stream writes to (Node's `ServerResponse`). */
export interface SseResponse {
  writeHead(status: number, headers: Record<string, string>): unknown;
  flushHeaders(): void;
  write(chunk: string): boolean;
  /** Bytes accepted by `write` and not yet handed to the kernel. */
  readonly writableLength: number;
  readonly destroyed: boolean;
  readonly writableEnded: boolean;
  end(): unknown;
  destroy(): unknown;
  once(event: 'close' | 'drain', listener: () => void): unknown;
  off(event: 'close' | 'drain', listener: () => void): unknown;
}

/** The part of `EventFeed` a stream reads. */
export interface StreamSource {
  readonly position: string;
  subscribe(fn: (event: FeedEvent) => void): () => void;
  since(afterId: string, cluster: string | undefined, limit: number): Promise<FeedEvent[]>;
}

export interface StreamFilter {
  cluster?: string;
  types?: ReadonlySet<string>;
}

export interface StreamLimits {
  /** Bytes a client may leave unread before it is dropped (it resumes with `Last-Event-ID`). */
  maxQueuedBytes: number;
  /** Events read from PostgreSQL per replay query. */
  replayPage: number;
}

export const SSE_HEADERS: Record<string, string> = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-transform',
  Connection: 'keep-alive',
  // nginx and other proxies that honour it pass each frame on at once.
  'X-Accel-Buffering': 'no',
};

export type CloseReason = 'client' | 'shutdown' | 'slow' | 'error';

/**
 * One server-sent event stream: replays the log after the client's `Last-Event-ID` (from PostgreSQL,
 * page by page, waiting for the client between pages), then follows the live feed. Live events that
 * arrive during the replay are held and sent after it, through a `StreamSequencer`, so nothing is sent
 * twice or skipped at the hand-over. A client that leaves more than `maxQueuedBytes` unread is
 * dropped rather than buffered for without end.
 */
export class SseConnection {
  private readonly sequencer: StreamSequencer;
  private readonly start: string;
  /** Live events held while the replay runs; undefined once live. */
  private held: FeedEvent[] | undefined = [];
  private heldBytes = 0;
  private closed = false;
  /** The last write filled the response's buffer: the replay waits for 'drain' before reading on. */
  private needDrain = false;
  private readonly unsubscribe: () => void;
  private readonly onClientClose = () => this.close('client');

  constructor(
    private readonly res: SseResponse,
    private readonly source: StreamSource,
    private readonly filter: StreamFilter,
    lastEventId: string | undefined,
    private readonly limits: StreamLimits,
    private readonly onClosed: (connection: SseConnection, reason: CloseReason, error?: Error) => void,
  ) {
    // Subscribe before reading the position: every event after `start` then reaches this stream, by replay or live.
    this.unsubscribe = source.subscribe((event) => this.onLive(event));
    this.start = lastEventId ?? source.position;
    this.sequencer = new StreamSequencer(BigInt(this.start));
    res.once('close', this.onClientClose);
  }

  /** Sends the headers at once (so the client knows the stream is open), then replays and goes live. */
  open(): void {
    this.res.writeHead(200, SSE_HEADERS);
    this.res.flushHeaders();
    void this.replay().catch((err: Error) => this.close('error', err));
  }

  heartbeat(): void {
    if (!this.closed) this.write(HEARTBEAT_FRAME);
  }

  /** Ends the response properly (server shutting down): the client reconnects, to another replica if there is one. */
  end(): void {
    if (this.closed) return;
    if (!this.res.writableEnded && !this.res.destroyed) this.res.end();
    this.close('shutdown');
  }

  private async replay(): Promise<void> {
    let after = this.start;
    for (;;) {
      const page = await this.source.since(after, this.filter.cluster, this.limits.replayPage);
      if (this.closed) return;
      for (const event of page) {
        if (this.wants(event)) this.send(event);
      }
      if (page.length < this.limits.replayPage) break;
      after = page[page.length - 1]!.id;
      // The replay is read on demand: wait for a slow client instead of dropping it.
      if (this.needDrain) {
        await this.drained();
        this.needDrain = false;
        if (this.closed) return;
      }
    }
    const held = this.held ?? [];
    this.held = undefined;
    for (const event of held) this.send(event);
  }

  private onLive(event: FeedEvent): void {
    if (this.closed || !this.wants(event)) return;
    if (this.held) {
      this.held.push(event);
      this.heldBytes += JSON.stringify(event).length;
      if (this.heldBytes > this.limits.maxQueuedBytes) this.drop();
      return;
    }
    this.send(event);
  }

  private send(event: FeedEvent): void {
    const resumeId = this.sequencer.next(event);
    if (resumeId !== undefined) this.write(eventFrame(event, resumeId));
  }

  private write(frame: string): void {
    if (this.closed || this.res.destroyed || this.res.writableEnded) return;
    this.needDrain = !this.res.write(frame);
    if (this.held === undefined && this.res.writableLength > this.limits.maxQueuedBytes) this.drop();
  }

  private drop(): void {
    this.close('slow');
    this.res.destroy();
  }

  private drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.res.off('drain', done);
        this.res.off('close', done);
        resolve();
      };
      this.res.once('drain', done);
      this.res.once('close', done);
    });
  }

  private wants(event: FeedEvent): boolean {
    return (
      (this.filter.cluster === undefined || event.cluster === this.filter.cluster) && (this.filter.types === undefined || this.filter.types.has(event.type))
    );
  }

  private close(reason: CloseReason, error?: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.held = undefined;
    this.unsubscribe();
    this.res.off('close', this.onClientClose);
    this.onClosed(this, reason, error);
    if (reason === 'error' && !this.res.destroyed) this.res.destroy();
  }
}
