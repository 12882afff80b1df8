import type { FeedEvent } from '../audit/event-feed.service.js';

/** A comment line: keeps proxies and clients from timing out an idle stream; clients ignore it. */
export const HEARTBEAT_FRAME = ': keepalive\n\n';

/**
 * One event as a server-sent event. `resumeId` is what the client sends back as `Last-Event-ID`: the
 * event's own id, except for an event committed late (see `StreamSequencer`). JSON never holds a
 * raw line break, so the payload is always a single `data:` line.
 */
export function eventFrame(event: FeedEvent, resumeId: string): string {
  return `id: ${resumeId}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

/**
 * Ids sent recently, remembered to recognise the same event arriving twice. It must cover the live
 * events held during a replay (at most `maxQueuedBytes` of them, a few thousand).
 */
const SENT_MEMORY = 8192;

/**
 * Decides, for one stream, which events to send and under which resume id, so that a stream that
 * first replays the log from PostgreSQL and then follows the live feed sends every event once.
 *
 * The feed is subscribed to before the replay starts, so an event can reach the stream twice: read
 * back by the replay and delivered live. Ids are handed out before commit, so an event can also become
 * visible after a higher one (the feed delivers it late). The position is the highest id sent; an
 * event below it that was not sent yet goes out under the position, so the client's `Last-Event-ID`
 * never moves backwards and a reconnect does not repeat what it already has.
 */
export class StreamSequencer {
  private position: bigint;
  private readonly sent = new Set<string>();

  /** `start`: the client's `Last-Event-ID`, or the feed's position for a stream that starts now. */
  constructor(private readonly start: bigint) {
    this.position = start;
  }

  /** The id a reconnecting client would send. */
  get resumeId(): string {
    return this.position.toString();
  }

  /**
   * The resume id to send `event` under, or undefined when it is not to be sent: sent already, or at
   * or before where the client started.
   */
  next(event: FeedEvent): string | undefined {
    const id = BigInt(event.id);
    if (id <= this.start || this.sent.has(event.id)) return undefined;
    this.sent.add(event.id);
    if (this.sent.size > SENT_MEMORY) this.sent.delete(this.sent.values().next().value!);
    if (id > this.position) this.position = id;
    return this.position.toString();
  }
}
