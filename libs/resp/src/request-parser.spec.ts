import { describe, expect, it } from 'vitest';
import { RespProtocolError, RespRequestParser, splitInline } from './request-parser.js';

describe('RespRequestParser', () => {
  it('parses multibulk commands, pipelined, across arbitrary chunk boundaries', () => {
    const wire = Buffer.from('*1\r\n$4\r\nPING\r\n*3\r\n$8\r\nSENTINEL\r\n$23\r\nget-master-addr-by-name\r\n$6\r\norders\r\n');
    for (let cut = 1; cut < wire.length; cut++) {
      const p = new RespRequestParser();
      const got = [...p.push(wire.subarray(0, cut)), ...p.push(wire.subarray(cut))];
      expect(got).toEqual([['PING'], ['SENTINEL', 'get-master-addr-by-name', 'orders']]);
    }
  });

  it('parses inline commands with quotes, and skips empty lines', () => {
    const p = new RespRequestParser();
    expect(p.push(Buffer.from('PING\r\n\r\nECHO "a b\\n" \'c\'\n'))).toEqual([['PING'], ['ECHO', 'a b\n', 'c']]);
  });

  it('keeps binary-safe bulk strings whole', () => {
    const p = new RespRequestParser();
    expect(p.push(Buffer.from('*2\r\n$4\r\nECHO\r\n$5\r\na\r\nbc\r\n'))).toEqual([['ECHO', 'a\r\nbc']]);
  });

  it('rejects what is not RESP', () => {
    expect(() => new RespRequestParser().push(Buffer.from('*x\r\n'))).toThrow(RespProtocolError);
    expect(() => new RespRequestParser().push(Buffer.from('*1\r\n+PING\r\n'))).toThrow("expected '$'");
    expect(() => new RespRequestParser().push(Buffer.from('*1\r\n$4\r\nPINGxx'))).toThrow('not terminated');
    expect(() => new RespRequestParser({ maxBulkBytes: 10, maxArgs: 4, maxInlineBytes: 64 }).push(Buffer.from('*1\r\n$11\r\n'))).toThrow('invalid bulk length');
    expect(() => new RespRequestParser({ maxBulkBytes: 10, maxArgs: 4, maxInlineBytes: 64 }).push(Buffer.from('*5\r\n'))).toThrow('invalid multibulk length');
    expect(() => new RespRequestParser({ maxBulkBytes: 10, maxArgs: 4, maxInlineBytes: 8 }).push(Buffer.from('PINGPINGPING'))).toThrow('too big inline');
    expect(() => splitInline('ECHO "open')).toThrow('unbalanced quotes');
  });
});
