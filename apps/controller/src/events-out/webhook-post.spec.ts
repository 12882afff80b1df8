import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { guardedLookup, postWebhook, TargetRefusedError } from './webhook-post.js';

const lookup = (addresses: string[], all: boolean) =>
  new Promise<{ err: Error | null; result: unknown }>((resolve) =>
    guardedLookup(async () => addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })))('hooks.example', { all }, (err, address) =>
      resolve({ err, result: address }),
    ),
  );

describe('guardedLookup', () => {
  it('passes public addresses through, in both callback forms', async () => {
    expect(await lookup(['93.184.216.34'], false)).toEqual({ err: null, result: '93.184.216.34' });
    expect((await lookup(['93.184.216.34', '2606:2800:220:1::1'], true)).result).toHaveLength(2);
  });

  it('refuses a name when any of its addresses is not public (one bad answer among good ones is enough)', async () => {
    const { err } = await lookup(['93.184.216.34', '10.0.0.7'], true);
    expect(err).toBeInstanceOf(TargetRefusedError);
    expect(err!.message).toBe('hooks.example resolves to 10.0.0.7, a private address');
  });
});

describe('postWebhook', () => {
  it('refuses a loopback receiver unless private targets are allowed, then delivers to it', async () => {
    let received = '';
    const server = createServer((req, res) => {
      req.on('data', (c: Buffer) => (received += c.toString()));
      req.on('end', () => res.writeHead(204).end());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    try {
      await expect(postWebhook(url, {}, '{}', { timeoutMs: 2000, allowPrivate: false })).rejects.toThrow(
        '127.0.0.1 is a loopback address: private targets need WEBHOOK_ALLOW_PRIVATE=true',
      );
      expect(received).toBe('');
      // A name is checked on what it resolves to when the connection is made.
      const port = (server.address() as AddressInfo).port;
      const toLoopback = async () => [{ address: '127.0.0.1', family: 4 }];
      await expect(postWebhook(`http://hooks.example:${port}/hook`, {}, '{}', { timeoutMs: 2000, allowPrivate: false, resolve: toLoopback })).rejects.toThrow(
        'hooks.example resolves to 127.0.0.1, a loopback address',
      );
      expect(received).toBe('');
      expect(await postWebhook(url, { 'content-type': 'application/json' }, '{"a":1}', { timeoutMs: 2000, allowPrivate: true })).toBe(204);
      expect(received).toBe('{"a":1}');
    } finally {
      server.close();
    }
  });
});
