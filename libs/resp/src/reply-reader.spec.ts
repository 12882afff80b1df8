import { describe, expect, it } from 'vitest';
import { RespErrorReply, RespReplyReader, type ReplyValue } from './reply-reader.js';
import { RespProtocolError } from './request-parser.js';

function readAll(reader: RespReplyReader, ...chunks: Buffer[]): ReplyValue[] {
  const out: ReplyValue[] = [];
  for (const c of chunks) reader.feed(c, (r) => out.push(r));
  return out;
}

describe('RespReplyReader', () => {
  const wire = Buffer.from('+PONG\r\n$23\r\n# Replication\r\nrole:mas\r\n-ERR no\r\n:-42\r\n$-1\r\n*2\r\n$1\r\na\r\n*1\r\n:7\r\n*-1\r\n$0\r\n\r\n');

  it('reads pipelined replies of every RESP2 type, split at any byte', () => {
    for (let cut = 0; cut <= wire.length; cut++) {
      const got = readAll(new RespReplyReader(), wire.subarray(0, cut), wire.subarray(cut));
      expect(got).toHaveLength(8);
      expect(got[0]).toBe('PONG');
      expect(got[1]).toBe('# Replication\r\nrole:mas');
      expect(got[2]).toBeInstanceOf(RespErrorReply);
      expect((got[2] as RespErrorReply).message).toBe('ERR no');
      expect(got.slice(3)).toEqual([-42, null, ['a', [7]], null, '']);
    }
  });

  it('reads a reply fed one byte at a time', () => {
    const reader = new RespReplyReader();
    const got: ReplyValue[] = [];
    for (const byte of wire) reader.feed(Buffer.from([byte]), (r) => got.push(r));
    expect(got).toHaveLength(8);
  });

  it('refuses malformed input instead of guessing', () => {
    for (const bad of ['?what\r\n', '+PONG\rX', ':12a\r\n', '$5\r\nabcdefg\r\n', '$-7\r\n', '*-3\r\n', ':\r\n']) {
      expect(() => readAll(new RespReplyReader(), Buffer.from(bad)), bad).toThrow(RespProtocolError);
    }
  });

  it('refuses a reply larger than its limit, and a line that never ends', () => {
    expect(() => readAll(new RespReplyReader(1000), Buffer.from('$5000\r\n'))).toThrow(/bad bulk length/);
    const reader = new RespReplyReader(1000);
    expect(() => readAll(reader, Buffer.from('$900\r\n'), Buffer.alloc(600, 97))).not.toThrow();
    expect(() => readAll(new RespReplyReader(), Buffer.from(`+${'x'.repeat(70 * 1024)}`))).toThrow(/line too long/);
  });

  it('forgets a partial reply on reset', () => {
    const reader = new RespReplyReader();
    expect(readAll(reader, Buffer.from('$10\r\nabc'))).toEqual([]);
    reader.reset();
    expect(readAll(reader, Buffer.from('+OK\r\n'))).toEqual(['OK']);
  });
});
