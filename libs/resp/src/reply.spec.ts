import { describe, expect, it } from 'vitest';
import { encodeReply, globMatch, R } from './reply.js';

describe('encodeReply', () => {
  it('encodes maps as flat arrays in RESP2 and as maps in RESP3', () => {
    const m = R.fields([
      ['ip', '127.0.0.1'],
      ['port', '6379'],
    ]);
    expect(encodeReply(m, false)).toBe('*4\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n$4\r\nport\r\n$4\r\n6379\r\n');
    expect(encodeReply(m, true)).toBe('%2\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n$4\r\nport\r\n$4\r\n6379\r\n');
  });

  it('encodes nulls and pushes per version', () => {
    expect(encodeReply(R.nullArray, false)).toBe('*-1\r\n');
    expect(encodeReply(R.nullBulk, false)).toBe('$-1\r\n');
    expect(encodeReply(R.nullArray, true)).toBe('_\r\n');
    expect(encodeReply(R.push([R.bulk('message')]), false)).toBe('*1\r\n$7\r\nmessage\r\n');
    expect(encodeReply(R.push([R.bulk('message')]), true)).toBe('>1\r\n$7\r\nmessage\r\n');
  });

  it('counts bulk lengths in bytes', () => {
    expect(encodeReply(R.bulk('é'), false)).toBe('$2\r\né\r\n');
    expect(encodeReply(R.verbatim('a'), true)).toBe('=5\r\ntxt:a\r\n');
  });
});

describe('globMatch', () => {
  it.each([
    ['*', '+switch-master', true],
    ['+switch-master', '+switch-master', true],
    ['switch-master', '+switch-master', false],
    ['[-+]sdown', '+sdown', true],
    ['[-+]sdown', '-sdown', true],
    ['[-+]sdown', 'xsdown', false],
    ['+s?own', '+sdown', true],
    ['[^a]b', 'ab', false],
    ['[^a]b', 'cb', true],
    ['[a-c]x', 'bx', true],
    ['\\*x', '*x', true],
    ['\\*x', 'ax', false],
    ['*odown', '+odown', true],
    ['a*b*c', 'aXbYc', true],
    ['a*b*c', 'aXbY', false],
  ])('%s ~ %s = %s', (p, s, want) => expect(globMatch(p, s)).toBe(want));
});
