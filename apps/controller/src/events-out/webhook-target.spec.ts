import { describe, expect, it } from 'vitest';
import { addressKind, literalTargetRefusal } from './webhook-target.js';

describe('addressKind', () => {
  it.each([
    ['8.8.8.8', 'public'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.1', 'public'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['0.0.0.0', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1%eth0', 'link-local'],
    ['fd00::5', 'unique-local'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:8.8.8.8', 'public'],
    ['2001:4860:4860::8888', 'public'],
    ['64:ff9b::a00:1', 'private'],
    ['64:ff9b::808:808', 'public'],
    ['::7f00:1', 'loopback'],
    ['::ffff:0:7f00:1', 'reserved'],
    ['2002:7f00:1::', 'loopback'],
    ['2002:808:808::1', 'public'],
    ['fec0::1', 'private'],
    ['64:ff9b:1::1', 'reserved'],
    ['100::1', 'reserved'],
    ['2001:0:4136:e378::1', 'reserved'],
  ])('%s is %s', (ip, kind) => {
    expect(addressKind(ip)).toBe(kind);
  });
});

describe('literalTargetRefusal', () => {
  it('refuses loopback names and non-public literals, and leaves other names to the connection', () => {
    expect(literalTargetRefusal('http://127.0.0.1:9000/hook')).toBe('127.0.0.1 is a loopback address');
    expect(literalTargetRefusal('http://[::1]:9000/')).toBe('::1 is a loopback address');
    expect(literalTargetRefusal('http://169.254.169.254/latest/meta-data')).toBe('169.254.169.254 is a link-local address');
    expect(literalTargetRefusal('http://localhost:8080/')).toBe('localhost is a loopback name');
    expect(literalTargetRefusal('https://hooks.example.com/vigil')).toBeNull();
    expect(literalTargetRefusal('https://8.8.8.8/')).toBeNull();
  });
});
