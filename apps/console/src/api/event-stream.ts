import { apiBase, currentToken } from './client';
import type { Schemas } from './client';

export type VigilEvent = Schemas['EventDto'];
export type StreamState = 'connecting' | 'live' | 'lost';

const SILENCE_MS = 40_000;

export interface StreamHandlers {
  onEvent(event: VigilEvent): void;
  onState(state: StreamState): void;
  /** Called after a reconnection: what was missed is replayed, and memory-only views should be read again. */
  onResync(): void;
  /** The stream's position (the `id:` of the last frame): where a reconnection resumes. */
  onPosition?(id: string): void;
}

/**
 * Follows `GET /api/v1/events/stream`. EventSource cannot send an Authorization header, so this reads
 * the stream with fetch and parses the frames itself; on any loss it reconnects with `Last-Event-ID`
 * (the server replays what was missed, none twice), backing off from 0.5 s to 5 s.
 */
export class EventStream {
  private abort: AbortController | null = null;
  private lastEventId: string | null = null;
  private stopped = false;
  private attempt = 0;
  private everLive = false;

  constructor(private readonly handlers: StreamHandlers) {}

  start(): void {
    this.stopped = false;
    void this.loop();
  }

  stop(): void {
    this.stopped = true;
    this.abort?.abort();
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      this.handlers.onState(this.everLive ? 'lost' : 'connecting');
      try {
        await this.follow();
      } catch {
        // fall through to the retry below
      }
      if (this.stopped) return;
      this.handlers.onState('lost');
      const delay = Math.min(5000, 500 * 2 ** Math.min(this.attempt++, 4));
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }

  private async follow(): Promise<void> {
    const token = currentToken();
    if (!token) throw new Error('signed out');
    this.abort = new AbortController();
    const headers: Record<string, string> = { Authorization: `Bearer ${token}`, Accept: 'text/event-stream' };
    if (this.lastEventId) headers['Last-Event-ID'] = this.lastEventId;
    const res = await fetch(`${apiBase}/api/v1/events/stream`, { headers, signal: this.abort.signal, cache: 'no-store' });
    if (!res.ok || !res.body) throw new Error(`stream answered ${res.status}`);
    const resumed = this.everLive;
    this.everLive = true;
    this.handlers.onState('live');
    if (resumed) this.handlers.onResync();
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    // The server sends a keepalive every 15 s: silence for longer means a path that drops packets
    // without closing anything. Give up on it and reconnect.
    let silence: ReturnType<typeof setTimeout> | undefined;
    const watch = () => {
      clearTimeout(silence);
      silence = setTimeout(() => this.abort?.abort(), SILENCE_MS);
    };
    watch();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        watch();
        // Backing off restarts only once the stream has carried something: one that answers and
        // closes at once is retried at the growing delay, not every half second.
        this.attempt = 0;
        // Lines may end in CRLF, LF or CR (the SSE format allows all three).
        buffer += value.replace(/\r\n?/g, '\n');
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          this.dispatch(frame);
        }
      }
    } finally {
      clearTimeout(silence);
    }
  }

  private dispatch(frame: string): void {
    let id: string | null = null;
    const data: string[] = [];
    for (const line of frame.split('\n')) {
      const colon = line.indexOf(':');
      if (colon === 0) continue; // a comment (keepalive)
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'id') id = value;
      else if (field === 'data') data.push(value);
    }
    if (id) {
      this.lastEventId = id;
      this.handlers.onPosition?.(id);
    }
    if (data.length === 0) return;
    try {
      this.handlers.onEvent(JSON.parse(data.join('\n')) as VigilEvent);
    } catch {
      // a frame that is not JSON is not an event: skip it, keep the stream
    }
  }
}
