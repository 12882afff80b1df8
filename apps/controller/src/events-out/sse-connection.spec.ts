import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { FeedEvent } from '../audit/event-feed.service.js';
import { type CloseReason, SseConnection, type StreamLimits } from './sse-connection.js';

const ev = (id: number, cluster = 'orders', type = 'cluster.updated'): FeedEvent => ({
  id: String(id),
  at: '2025-11-28T10:00:00.000Z',
  type,
  cluster,
  actor: 'test',
  data: {},
});

/** A response whose client reads only when told (`read`). */
class FakeResponse extends EventEmitter {
  status = 0;
  headers: Record<string, string> = {};
  out = '';
  writableLength = 0;
  destroyed = false;
  writableEnded = false;
  constructor(private readonly highWaterMark = 1 << 20) {
    super();
  }
  writeHead(status: number, headers: Record<string, string>) {
    this.status = status;
    this.headers = headers;
  }
  flushHeaders() {}
  write(chunk: string): boolean {
    this.out += chunk;
    this.writableLength += chunk.length;
    return this.writableLength < this.highWaterMark;
  }
  end() {
    this.writableEnded = true;
  }
  destroy() {
    this.destroyed = true;
    this.emit('close');
  }
  read() {
    this.writableLength = 0;
    this.emit('drain');
  }
  /** The ids (`id:`) and event ids (in `data`) of the frames written so far. */
  frames(): { id: string; eventId: string }[] {
    return this.out
      .split('\n\n')
      .filter((f) => f.startsWith('id: '))
      .map((f) => {
        const [id, , data] = f.split('\n');
        return { id: id!.slice(4), eventId: JSON.parse(data!.slice(6)).id };
      });
  }
}

/** The feed: a log with a position, live subscribers, and `since` answers that can be held back. */
class FakeFeed {
  log: FeedEvent[] = [];
  position = '0';
  subscribers = new Set<(e: FeedEvent) => void>();
  gate: Promise<void> | undefined;
  sinceCalls = 0;
  subscribe(fn: (e: FeedEvent) => void) {
    this.subscribers.add(fn);
    return () => this.subscribers.delete(fn);
  }
  async since(after: string, cluster: string | undefined, limit: number): Promise<FeedEvent[]> {
    this.sinceCalls++;
    const pos = BigInt(this.position);
    await this.gate;
    return this.log.filter((e) => BigInt(e.id) > BigInt(after) && BigInt(e.id) <= pos && (cluster === undefined || e.cluster === cluster)).slice(0, limit);
  }
  commit(e: FeedEvent, deliver = true) {
    this.log.push(e);
    this.log.sort((a, b) => Number(a.id) - Number(b.id));
    if (BigInt(e.id) > BigInt(this.position)) this.position = e.id;
    if (deliver) for (const fn of this.subscribers) fn(e);
  }
}

const LIMITS: StreamLimits = { maxQueuedBytes: 10_000, replayPage: 2 };
const flush = () => new Promise((r) => setImmediate(r));

describe('SseConnection', () => {
  let feed: FakeFeed;
  let closed: CloseReason[];

  beforeEach(() => {
    feed = new FakeFeed();
    closed = [];
  });
  afterEach(() => vi.useRealTimers());

  function open(res: FakeResponse, lastEventId?: string, filter = {}, limits = LIMITS): SseConnection {
    const c = new SseConnection(res, feed, filter, lastEventId, limits, (_c, reason) => closed.push(reason));
    c.open();
    return c;
  }

  it('answers 200 with unbuffered event-stream headers and starts at the next event', async () => {
    for (let i = 1; i <= 3; i++) feed.commit(ev(i));
    const res = new FakeResponse();
    open(res);
    await flush();
    feed.commit(ev(4));
    expect(res.status).toBe(200);
    expect(res.headers).toMatchObject({ 'Content-Type': 'text/event-stream; charset=utf-8', 'X-Accel-Buffering': 'no' });
    expect(res.frames()).toEqual([{ id: '4', eventId: '4' }]);
  });

  it('replays after Last-Event-ID page by page, then goes live without repeating or skipping across the hand-over', async () => {
    for (let i = 1; i <= 5; i++) feed.commit(ev(i));
    let release!: () => void;
    feed.gate = new Promise((r) => (release = r));
    const res = new FakeResponse();
    open(res, '2');
    // While the replay is held back, two events arrive live: one it will read back, one it will not.
    feed.commit(ev(6));
    feed.commit(ev(7));
    release();
    await vi.waitFor(() => expect(res.frames().map((f) => f.eventId)).toEqual(['3', '4', '5', '6', '7']));
    feed.commit(ev(8));
    expect(res.frames().map((f) => f.eventId)).toEqual(['3', '4', '5', '6', '7', '8']);
    expect(feed.sinceCalls).toBeGreaterThanOrEqual(2);
  });

  it('sends an event the feed delivers twice once, and one committed late under the position reached', async () => {
    const res = new FakeResponse();
    open(res);
    await flush();
    feed.commit(ev(2));
    feed.commit(ev(2));
    feed.commit(ev(4));
    feed.commit(ev(3));
    expect(res.frames()).toEqual([
      { id: '2', eventId: '2' },
      { id: '4', eventId: '4' },
      { id: '4', eventId: '3' },
    ]);
  });

  it('filters by cluster and type', async () => {
    const res = new FakeResponse();
    open(res, undefined, { cluster: 'orders', types: new Set(['master.changed']) });
    await flush();
    feed.commit(ev(1, 'orders', 'master.changed'));
    feed.commit(ev(2, 'carts', 'master.changed'));
    feed.commit(ev(3, 'orders', 'cluster.updated'));
    expect(res.frames().map((f) => f.eventId)).toEqual(['1']);
  });

  it('drops a live client that leaves too much unread, and unsubscribes', async () => {
    const res = new FakeResponse();
    open(res, undefined, {}, { ...LIMITS, maxQueuedBytes: 1000 });
    await flush();
    for (let i = 1; i <= 20 && !res.destroyed; i++) feed.commit(ev(i));
    expect(res.destroyed).toBe(true);
    expect(closed).toEqual(['slow']);
    expect(feed.subscribers.size).toBe(0);
  });

  it('waits for a slow client between replay pages instead of dropping it', async () => {
    for (let i = 1; i <= 6; i++) feed.commit(ev(i));
    const res = new FakeResponse(100);
    open(res, '0');
    await flush();
    await flush();
    expect(res.frames().map((f) => f.eventId)).toEqual(['1', '2']);
    res.read();
    await flush();
    await flush();
    expect(res.frames().map((f) => f.eventId)).toEqual(['1', '2', '3', '4']);
    res.read();
    res.read();
    await vi.waitFor(() => expect(res.frames()).toHaveLength(6));
    expect(res.destroyed).toBe(false);
  });

  it('drops a client whose live events pile up during a long replay', async () => {
    feed.commit(ev(1));
    feed.gate = new Promise(() => undefined);
    const res = new FakeResponse();
    open(res, '0', {}, { ...LIMITS, maxQueuedBytes: 500 });
    for (let i = 2; i <= 10 && !res.destroyed; i++) feed.commit(ev(i));
    expect(res.destroyed).toBe(true);
    expect(closed).toEqual(['slow']);
  });

  it('ends the response on shutdown, and cleans up when the client goes away', async () => {
    const a = new FakeResponse();
    const b = new FakeResponse();
    const ca = open(a);
    open(b);
    await flush();
    ca.end();
    expect(a.writableEnded).toBe(true);
    b.emit('close');
    expect(closed).toEqual(['shutdown', 'client']);
    expect(feed.subscribers.size).toBe(0);
  });

  it('writes a heartbeat comment', async () => {
    const res = new FakeResponse();
    open(res).heartbeat();
    expect(res.out).toBe(': keepalive\n\n');
  });
});
