/**
 * A strict reader of RESP2/RESP3 replies as a server sends them, for tests that check a reply stream is
 * well formed. `readReplies` returns the replies complete in `text` (latin1) and where the rest starts;
 * anything that is not RESP throws.
 */
export type ReplyValue = string | number | null | ReplyValue[] | { error: string };

export function readReplies(text: string): { replies: ReplyValue[]; rest: number } {
  const replies: ReplyValue[] = [];
  let pos = 0;
  for (;;) {
    const r = readOne(text, pos);
    if (!r) return { replies, rest: pos };
    replies.push(r.value);
    pos = r.next;
  }
}

function readOne(text: string, pos: number): { value: ReplyValue; next: number } | undefined {
  if (pos >= text.length) return undefined;
  const end = text.indexOf('\r\n', pos);
  if (end === -1) return undefined;
  const type = text[pos];
  const line = text.slice(pos + 1, end);
  const after = end + 2;
  const length = (): number => {
    if (!/^-?\d+$/.test(line)) throw new Error(`bad length ${JSON.stringify(line)} at ${pos}`);
    return Number(line);
  };
  switch (type) {
    case '+':
    case ':':
    case ',':
    case '#':
    case '(':
      return { value: type === ':' ? Number(line) : line, next: after };
    case '-':
      return { value: { error: line }, next: after };
    case '_':
      return { value: null, next: after };
    case '$':
    case '=':
    case '!': {
      const n = length();
      if (n === -1) return { value: null, next: after };
      if (text.length < after + n + 2) return undefined;
      if (text.slice(after + n, after + n + 2) !== '\r\n') throw new Error(`bulk not terminated at ${pos}`);
      return { value: text.slice(after, after + n), next: after + n + 2 };
    }
    case '*':
    case '~':
    case '>':
    case '%': {
      const n = length();
      if (n === -1) return { value: null, next: after };
      const items: ReplyValue[] = [];
      let p = after;
      for (let i = 0; i < (type === '%' ? 2 * n : n); i++) {
        const r = readOne(text, p);
        if (!r) return undefined;
        items.push(r.value);
        p = r.next;
      }
      return { value: items, next: p };
    }
    default:
      throw new Error(`not a RESP reply type ${JSON.stringify(type)} at ${pos}`);
  }
}
