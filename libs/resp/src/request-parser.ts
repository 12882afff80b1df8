/**
 * Incremental parser of RESP requests as clients send them: arrays of bulk strings
 * (`*2\r\n$4\r\nPING\r\n…`) and inline commands (`PING\r\n`). Feed it bytes as they arrive; it yields
 * every complete command and keeps the rest. Anything that is not RESP throws `RespProtocolError`
 * (the caller answers with an error and closes that connection).
 */

export class RespProtocolError extends Error {
  /** The commands completed before the error in the same `push`: to be answered before the error, in order (as Redis does). */
  before: string[][] = [];

  constructor(message: string) {
    super(`Protocol error: ${message}`);
    this.name = 'RespProtocolError';
  }
}

export interface RespParserLimits {
  /** Largest bulk string accepted (Redis: proto-max-bulk-len, 512 MB; ours is far lower by default). */
  maxBulkBytes: number;
  /** Most arguments in one command. */
  maxArgs: number;
  /** Longest inline command or header line. */
  maxInlineBytes: number;
}

export const DEFAULT_RESP_LIMITS: RespParserLimits = { maxBulkBytes: 1_048_576, maxArgs: 1024, maxInlineBytes: 65_536 };

const CR = 13;
const LF = 10;

export class RespRequestParser {
  private buffer: Buffer = Buffer.alloc(0);

  constructor(private readonly limits: RespParserLimits = DEFAULT_RESP_LIMITS) {}

  /**
   * Appends `chunk` and returns the commands completed by it (each an array of arguments). Throws
   * `RespProtocolError` at the first thing that is not RESP, carrying the commands completed before it.
   */
  push(chunk: Buffer): string[][] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const commands: string[][] = [];
    let offset = 0;
    try {
      for (;;) {
        const parsed = this.parseOne(offset);
        if (!parsed) break;
        offset = parsed.next;
        if (parsed.args.length > 0) commands.push(parsed.args);
      }
      this.buffer = offset >= this.buffer.length ? Buffer.alloc(0) : this.buffer.subarray(offset);
      if (this.buffer.length > this.limits.maxBulkBytes + this.limits.maxInlineBytes) throw new RespProtocolError('request too large');
    } catch (err) {
      if (err instanceof RespProtocolError) err.before = commands;
      throw err;
    }
    return commands;
  }

  private lineEnd(from: number): number {
    const end = this.buffer.indexOf(LF, from);
    if (end === -1) {
      if (this.buffer.length - from > this.limits.maxInlineBytes) throw new RespProtocolError('too big inline request');
      return -1;
    }
    if (end - from > this.limits.maxInlineBytes) throw new RespProtocolError('too big inline request');
    return end;
  }

  private parseOne(start: number): { args: string[]; next: number } | undefined {
    if (start >= this.buffer.length) return undefined;
    if (this.buffer[start] !== 0x2a /* '*' */) {
      const end = this.lineEnd(start);
      if (end === -1) return undefined;
      const line = this.buffer.toString('utf8', start, end > start && this.buffer[end - 1] === CR ? end - 1 : end);
      return { args: splitInline(line), next: end + 1 };
    }
    const headerEnd = this.lineEnd(start);
    if (headerEnd === -1) return undefined;
    const count = parseLength(this.buffer, start + 1, headerEnd, 'multibulk length');
    if (count > this.limits.maxArgs) throw new RespProtocolError('invalid multibulk length');
    let pos = headerEnd + 1;
    const args: string[] = [];
    for (let i = 0; i < count; i++) {
      if (pos >= this.buffer.length) return undefined;
      if (this.buffer[pos] !== 0x24 /* '$' */) throw new RespProtocolError(`expected '$', got '${String.fromCharCode(this.buffer[pos]!)}'`);
      const lenEnd = this.lineEnd(pos);
      if (lenEnd === -1) return undefined;
      const len = parseLength(this.buffer, pos + 1, lenEnd, 'bulk length');
      if (len > this.limits.maxBulkBytes) throw new RespProtocolError('invalid bulk length');
      const dataStart = lenEnd + 1;
      if (this.buffer.length < dataStart + len + 2) return undefined;
      if (this.buffer[dataStart + len] !== CR || this.buffer[dataStart + len + 1] !== LF) throw new RespProtocolError('bulk string not terminated by CRLF');
      args.push(this.buffer.toString('utf8', dataStart, dataStart + len));
      pos = dataStart + len + 2;
    }
    return { args, next: pos };
  }
}

function parseLength(buf: Buffer, from: number, lineEnd: number, what: string): number {
  const end = lineEnd > from && buf[lineEnd - 1] === CR ? lineEnd - 1 : lineEnd;
  // Digits only (a leading '-' is a negative length: refused), at most 10 of them.
  if (end <= from || end - from > 10) throw new RespProtocolError(`invalid ${what}`);
  let n = 0;
  for (let i = from; i < end; i++) {
    const d = buf[i]! - 0x30;
    if (d < 0 || d > 9) throw new RespProtocolError(`invalid ${what}`);
    n = n * 10 + d;
  }
  return n;
}

/** Inline commands split on blanks, with Redis's double and single quotes. */
export function splitInline(line: string): string[] {
  const args: string[] = [];
  let i = 0;
  while (i < line.length) {
    while (i < line.length && /\s/.test(line[i]!)) i++;
    if (i >= line.length) break;
    let arg = '';
    const quote = line[i] === '"' || line[i] === "'" ? line[i] : undefined;
    if (quote) {
      i++;
      while (i < line.length && line[i] !== quote) {
        if (quote === '"' && line[i] === '\\' && i + 1 < line.length) {
          i++;
          arg += ({ n: '\n', r: '\r', t: '\t', '"': '"', '\\': '\\' } as Record<string, string>)[line[i]!] ?? line[i];
        } else {
          arg += line[i];
        }
        i++;
      }
      if (line[i] !== quote) throw new RespProtocolError('unbalanced quotes in request');
      i++;
    } else {
      while (i < line.length && !/\s/.test(line[i]!)) arg += line[i++];
    }
    args.push(arg);
  }
  return args;
}
