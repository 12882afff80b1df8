/**
 * Replies as values, encoded for the protocol version a connection negotiated (`HELLO 2|3`). RESP2
 * has no maps, nulls or pushes: maps become flat key/value arrays, nulls `$-1` / `*-1`, pushes arrays,
 * which is exactly what Redis itself sends to a RESP2 client.
 */
export type Reply =
  | { t: 'simple'; v: string }
  | { t: 'error'; v: string }
  | { t: 'int'; v: number }
  | { t: 'bulk'; v: string }
  | { t: 'verbatim'; v: string }
  | { t: 'array'; v: Reply[] }
  | { t: 'map'; v: [Reply, Reply][] }
  | { t: 'push'; v: Reply[] }
  | { t: 'nullBulk' }
  | { t: 'nullArray' }
  /** Already encoded (the same for both versions); for hot, precomputed answers. */
  | { t: 'raw'; v: string };

export const R = {
  ok: { t: 'simple', v: 'OK' } as Reply,
  simple: (v: string): Reply => ({ t: 'simple', v }),
  error: (v: string): Reply => ({ t: 'error', v }),
  int: (v: number): Reply => ({ t: 'int', v }),
  bulk: (v: string): Reply => ({ t: 'bulk', v }),
  verbatim: (v: string): Reply => ({ t: 'verbatim', v }),
  array: (v: Reply[]): Reply => ({ t: 'array', v }),
  bulks: (v: string[]): Reply => ({ t: 'array', v: v.map((s) => ({ t: 'bulk', v: s })) }),
  /** A map with bulk-string keys; string values become bulk strings (Sentinel's instance descriptions, HELLO's answer). */
  fields: (pairs: [string, string | Reply][]): Reply => ({
    t: 'map',
    v: pairs.map(([k, v]) => [{ t: 'bulk', v: k }, typeof v === 'string' ? { t: 'bulk', v } : v]),
  }),
  push: (v: Reply[]): Reply => ({ t: 'push', v }),
  nullBulk: { t: 'nullBulk' } as Reply,
  nullArray: { t: 'nullArray' } as Reply,
  raw: (v: string): Reply => ({ t: 'raw', v }),
};

/** Encodes `reply` for RESP3 when `resp3`, else RESP2. */
export function encodeReply(reply: Reply, resp3: boolean): string {
  switch (reply.t) {
    case 'simple':
      return `+${reply.v}\r\n`;
    case 'error':
      return `-${reply.v}\r\n`;
    case 'int':
      return `:${reply.v}\r\n`;
    case 'bulk':
      return `$${Buffer.byteLength(reply.v)}\r\n${reply.v}\r\n`;
    case 'verbatim':
      if (!resp3) return `$${Buffer.byteLength(reply.v)}\r\n${reply.v}\r\n`;
      return `=${Buffer.byteLength(reply.v) + 4}\r\ntxt:${reply.v}\r\n`;
    case 'array':
      return `*${reply.v.length}\r\n${reply.v.map((r) => encodeReply(r, resp3)).join('')}`;
    case 'push':
      return `${resp3 ? '>' : '*'}${reply.v.length}\r\n${reply.v.map((r) => encodeReply(r, resp3)).join('')}`;
    case 'map': {
      const body = reply.v.map(([k, v]) => encodeReply(k, resp3) + encodeReply(v, resp3)).join('');
      return resp3 ? `%${reply.v.length}\r\n${body}` : `*${reply.v.length * 2}\r\n${body}`;
    }
    case 'nullBulk':
      return resp3 ? '_\r\n' : '$-1\r\n';
    case 'nullArray':
      return resp3 ? '_\r\n' : '*-1\r\n';
    case 'raw':
      return reply.v;
  }
}

/**
 * Whether `subject` matches the Redis glob `pattern` (`*`, `?`, `[abc]`, `[^a-c]`, `\x`), as
 * PSUBSCRIBE matches channels (Redis' `stringmatchlen`).
 */
export function globMatch(pattern: string, subject: string): boolean {
  return matchAt(pattern, 0, subject, 0, 0);
}

function matchAt(p: string, pi: number, s: string, si: number, depth: number): boolean {
  if (depth > 1000) return false;
  while (pi < p.length) {
    const c = p[pi]!;
    if (c === '*') {
      while (p[pi + 1] === '*') pi++;
      if (pi + 1 === p.length) return true;
      for (let k = si; k <= s.length; k++) if (matchAt(p, pi + 1, s, k, depth + 1)) return true;
      return false;
    }
    if (si >= s.length) return false;
    if (c === '?') {
      pi++;
      si++;
      continue;
    }
    if (c === '[') {
      let i = pi + 1;
      const negate = p[i] === '^';
      if (negate) i++;
      let matched = false;
      while (i < p.length && p[i] !== ']') {
        if (p[i] === '\\' && i + 1 < p.length) {
          if (p[i + 1] === s[si]) matched = true;
          i += 2;
        } else if (i + 2 < p.length && p[i + 1] === '-' && p[i + 2] !== ']') {
          let lo = p[i]!;
          let hi = p[i + 2]!;
          if (lo > hi) [lo, hi] = [hi, lo];
          if (s[si]! >= lo && s[si]! <= hi) matched = true;
          i += 3;
        } else {
          if (p[i] === s[si]) matched = true;
          i++;
        }
      }
      if (negate) matched = !matched;
      if (!matched) return false;
      pi = i < p.length ? i + 1 : i;
      si++;
      continue;
    }
    if (c === '\\' && pi + 1 < p.length) {
      if (p[pi + 1] !== s[si]) return false;
      pi += 2;
      si++;
      continue;
    }
    if (c !== s[si]) return false;
    pi++;
    si++;
  }
  return si === s.length;
}
