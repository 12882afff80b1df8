import { RespProtocolError } from './request-parser.js';

/** An error reply (`-ERR …`): a value, not a failure of the stream. */
export class RespErrorReply extends Error {}

/** A RESP2 reply as a client reads it: bulk and simple strings as strings, `$-1`/`*-1` as null. */
export type ReplyValue = string | number | null | RespErrorReply | ReplyValue[];

const CR = 13;
const NEED_MORE = -1;

/**
 * Reads the replies a Redis server sends a RESP2 client, from chunks as they arrive: whole replies
 * are handed out in order, a partial one is kept for the next chunk. Small replies in one chunk (the
 * usual case) are read straight from it. A malformed stream or a reply larger than `maxBytes` throws
 * `RespProtocolError`: the connection can no longer be trusted and should be dropped.
 */
export class RespReplyReader {
  private pending: Buffer | undefined;
  private value: ReplyValue = null;

  constructor(private readonly maxBytes = 1 << 20) {}

  feed(chunk: Buffer, onReply: (reply: ReplyValue) => void): void {
    const buf = this.pending === undefined ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = undefined;
    let pos = 0;
    while (pos < buf.length) {
      const next = this.read(buf, pos, 0);
      if (next === NEED_MORE) {
        if (buf.length - pos > this.maxBytes) throw new RespProtocolError(`reply larger than ${this.maxBytes} bytes`);
        this.pending = pos === 0 ? buf : Buffer.from(buf.subarray(pos));
        return;
      }
      pos = next;
      onReply(this.value);
    }
  }

  /** Drops a partial reply (the connection it came from is gone). */
  reset(): void {
    this.pending = undefined;
  }

  /** Reads one reply at `pos` into `this.value`; returns the position after it, or NEED_MORE. */
  private read(buf: Buffer, pos: number, depth: number): number {
    if (depth > 8) throw new RespProtocolError('replies nested too deep');
    const eol = buf.indexOf(CR, pos + 1);
    if (eol < 0 || eol + 1 >= buf.length) {
      if (buf.length - pos > 64 * 1024 && eol < 0) throw new RespProtocolError('reply line too long');
      return NEED_MORE;
    }
    if (buf[eol + 1] !== 10) throw new RespProtocolError('expected CRLF');
    const type = buf[pos];
    switch (type) {
      case 43: // '+'
        this.value = buf.toString('utf8', pos + 1, eol);
        return eol + 2;
      case 45: // '-'
        this.value = new RespErrorReply(buf.toString('utf8', pos + 1, eol));
        return eol + 2;
      case 58: // ':'
        this.value = this.integer(buf, pos + 1, eol);
        return eol + 2;
      case 36: {
        // '$'
        const len = this.integer(buf, pos + 1, eol);
        if (len === -1) {
          this.value = null;
          return eol + 2;
        }
        if (len < 0 || len > this.maxBytes) throw new RespProtocolError(`bad bulk length ${len}`);
        const end = eol + 2 + len;
        if (end + 2 > buf.length) return NEED_MORE;
        if (buf[end] !== CR || buf[end + 1] !== 10) throw new RespProtocolError('bulk string not followed by CRLF');
        this.value = buf.toString('utf8', eol + 2, end);
        return end + 2;
      }
      case 42: {
        // '*'
        const count = this.integer(buf, pos + 1, eol);
        if (count === -1) {
          this.value = null;
          return eol + 2;
        }
        if (count < 0 || count > 1024 * 1024) throw new RespProtocolError(`bad array length ${count}`);
        const items: ReplyValue[] = [];
        let at = eol + 2;
        for (let i = 0; i < count; i++) {
          if (at >= buf.length) return NEED_MORE;
          at = this.read(buf, at, depth + 1);
          if (at === NEED_MORE) return NEED_MORE;
          items.push(this.value);
        }
        this.value = items;
        return at;
      }
      default:
        throw new RespProtocolError(`unexpected reply type byte ${type}`);
    }
  }

  private integer(buf: Buffer, start: number, end: number): number {
    let i = start;
    let negative = false;
    if (buf[i] === 45) {
      negative = true;
      i++;
    }
    if (i >= end || end - i > 18) throw new RespProtocolError('bad integer');
    let n = 0;
    for (; i < end; i++) {
      const d = buf[i]! - 48;
      if (d < 0 || d > 9) throw new RespProtocolError('bad integer');
      n = n * 10 + d;
    }
    return negative ? -n : n;
  }
}
