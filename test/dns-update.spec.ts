import { randomBytes } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildUpdateMessage,
  compareAndSwap,
  DnsUpdateError,
  exchange,
  parseTsigSecret,
  queryAddresses,
  querySrv,
  signRequest,
  TsigError,
  type TsigKey,
  type UpdateTarget,
  verifyResponse,
} from '../libs/dns-update/src/index.js';
import { type BindServer, startBind } from '../libs/testing/src/bind.js';
import { freePort } from '../libs/testing/src/ports.js';

const ZONE = 'redis.test.';
const SECRET = randomBytes(32).toString('base64');
const KEY: TsigKey = { name: 'vigil-key', algorithm: 'hmac-sha256', secret: parseTsigSecret(SECRET) };

let bind: BindServer;
let target: UpdateTarget;
const servers: Server[] = [];

beforeAll(async () => {
  bind = await startBind({
    zone: ZONE,
    keys: [{ name: 'vigil-key', secret: SECRET }],
    records: [
      'cas 60 IN A 10.0.1.1',
      'stale 60 IN A 10.0.2.1',
      'badsig 60 IN A 10.0.3.1',
      'badkey 60 IN A 10.0.4.1',
      'exists 60 IN A 10.0.5.1',
      'multi 60 IN A 10.0.6.1',
      'multi 60 IN A 10.0.6.2',
      'v6 60 IN AAAA 2001:db8::1',
      'unsigned 60 IN A 10.0.7.1',
      'tampered 60 IN A 10.0.8.1',
    ],
  });
  target = { server: bind.host, port: bind.port, zone: ZONE, key: KEY, timeoutMs: 5000 };
});

afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  await bind?.stop();
});

async function listen(server: Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

/** Forwards to BIND but flips one bit in the last byte of the reply's TSIG MAC. */
function corruptingProxy(): Promise<number> {
  return listen(
    createServer((client: Socket) => {
      const upstream = connect(bind.port, bind.host);
      let reply = Buffer.alloc(0);
      client.on('error', () => undefined);
      upstream.on('error', () => client.destroy());
      client.on('data', (chunk) => upstream.write(chunk));
      upstream.on('data', (chunk) => {
        reply = Buffer.concat([reply, chunk]);
        if (reply.length < 2 || reply.length < 2 + reply.readUInt16BE(0)) return;
        reply[reply.length - 7] ^= 0x01; // MAC, before Original ID, Error and Other Len
        client.end(reply);
        upstream.destroy();
      });
    }),
  );
}

async function rejection(promise: Promise<unknown>): Promise<DnsUpdateError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DnsUpdateError);
  return err as DnsUpdateError;
}

describe('dynamic updates against BIND9', () => {
  it('swaps an A record that holds the expected address', async () => {
    await expect(compareAndSwap(target, { name: 'cas.redis.test.', type: 'A', ttl: 30, expected: ['10.0.1.1'], next: '10.0.1.2' })).resolves.toEqual({
      rcode: 'NOERROR',
    });
    expect(await queryAddresses(target, 'cas.redis.test.', 'A')).toEqual(['10.0.1.2']);
    expect(await bind.dig('cas.redis.test.', 'A')).toEqual(['10.0.1.2']);
  });

  it('fails NXRRSET without changing anything when the expected address is wrong', async () => {
    const err = await rejection(compareAndSwap(target, { name: 'stale.redis.test.', type: 'A', ttl: 30, expected: ['10.9.9.9'], next: '10.0.2.2' }));
    expect(err.rcode).toBe('NXRRSET');
    expect(err.message).toContain('stale.redis.test. A does not hold exactly [10.9.9.9]');
    expect(await bind.dig('stale.redis.test.', 'A')).toEqual(['10.0.2.1']);
  });

  it('lets a retry find out that the first attempt was applied', async () => {
    const change = { name: 'stale.redis.test.', type: 'A' as const, ttl: 30, expected: ['10.0.2.1'], next: '10.0.2.3' };
    await compareAndSwap(target, change);
    // The same update again, as after a lost reply: the prerequisite no longer holds...
    expect((await rejection(compareAndSwap(target, change))).rcode).toBe('NXRRSET');
    // ...and the read-back shows the server already holds exactly `next`.
    expect(await queryAddresses(target, change.name, 'A')).toEqual([change.next]);
  });

  it('compares the whole RRset: all its addresses must be expected', async () => {
    const change = { name: 'multi.redis.test.', type: 'A' as const, ttl: 30, next: '10.0.6.3' };
    expect((await rejection(compareAndSwap(target, { ...change, expected: ['10.0.6.1'] }))).rcode).toBe('NXRRSET');
    await compareAndSwap(target, { ...change, expected: ['10.0.6.2', '10.0.6.1'] });
    expect(await bind.dig('multi.redis.test.', 'A')).toEqual(['10.0.6.3']);
  });

  it('overwrites unconditionally with expected: null', async () => {
    await compareAndSwap(target, { name: 'multi.redis.test.', type: 'A', ttl: 30, expected: null, next: '10.0.6.4' });
    expect(await bind.dig('multi.redis.test.', 'A')).toEqual(['10.0.6.4']);
  });

  it('creates with expected: [] only when the RRset is absent (YXRRSET otherwise)', async () => {
    const create = { name: 'fresh.redis.test.', type: 'A' as const, ttl: 30, expected: [], next: '10.0.9.1' };
    expect(await queryAddresses(target, create.name, 'A')).toEqual([]);
    await compareAndSwap(target, create);
    expect(await bind.dig(create.name, 'A')).toEqual(['10.0.9.1']);
    const again = await rejection(compareAndSwap(target, { ...create, next: '10.0.9.2' }));
    expect(again.rcode).toBe('YXRRSET');
    const existing = await rejection(compareAndSwap(target, { ...create, name: 'exists.redis.test.' }));
    expect(existing.rcode).toBe('YXRRSET');
    expect(await bind.dig('exists.redis.test.', 'A')).toEqual(['10.0.5.1']);
  });

  it('swaps AAAA records', async () => {
    await compareAndSwap(target, { name: 'v6.redis.test.', type: 'AAAA', ttl: 30, expected: ['2001:0db8:0::1'], next: '2001:db8::2' });
    expect(await queryAddresses(target, 'v6.redis.test.', 'AAAA')).toEqual(['2001:db8::2']);
    expect(await bind.dig('v6.redis.test.', 'AAAA')).toEqual(['2001:db8::2']);
  });

  it('swaps SRV records', async () => {
    const name = '_redis._tcp.redis.test.';
    const first = { priority: 0, weight: 10, port: 6379, target: 'cas.redis.test.' };
    const second = { priority: 0, weight: 10, port: 6380, target: 'v6.redis.test.' };
    await compareAndSwap(target, { name, type: 'SRV', ttl: 30, expected: [], next: first });
    await compareAndSwap(target, { name, type: 'SRV', ttl: 30, expected: [first], next: second });
    expect(await querySrv(target, name)).toEqual([second]);
    expect(await bind.dig(name, 'SRV')).toEqual(['0 10 6380 v6.redis.test.']);
  });
});

describe('authentication against BIND9', () => {
  it('surfaces a wrong secret as NOTAUTH/BADSIG and changes nothing', async () => {
    const wrong = { ...target, key: { ...KEY, secret: randomBytes(32) } };
    const err = await rejection(compareAndSwap(wrong, { name: 'badsig.redis.test.', type: 'A', ttl: 30, expected: null, next: '10.0.3.2' }));
    expect(err).toMatchObject({ rcode: 'NOTAUTH', tsigError: 'BADSIG' });
    expect(await bind.dig('badsig.redis.test.', 'A')).toEqual(['10.0.3.1']);
  });

  it('surfaces an unknown key name as NOTAUTH/BADKEY and changes nothing', async () => {
    const stranger = { ...target, key: { ...KEY, name: 'stranger' } };
    const err = await rejection(compareAndSwap(stranger, { name: 'badkey.redis.test.', type: 'A', ttl: 30, expected: null, next: '10.0.4.2' }));
    expect(err).toMatchObject({ rcode: 'NOTAUTH', tsigError: 'BADKEY' });
    expect(await bind.dig('badkey.redis.test.', 'A')).toEqual(['10.0.4.1']);
  });

  it('gets a signed BADTIME for a request signed outside the fudge window', async () => {
    const message = buildUpdateMessage(0x5151, ZONE, { name: 'badkey.redis.test.', type: 'A', ttl: 30, expected: null, next: '10.0.4.3' });
    const signed = signRequest(message, KEY, { timeSigned: Math.floor(Date.now() / 1000) - 3600 });
    const reply = await exchange(target, signed.wire);
    expect(() => verifyResponse(reply, signed)).toThrow(expect.objectContaining({ code: 'BADTIME', reportedByServer: true, authenticated: true }));
    expect(() => verifyResponse(reply, signed)).toThrow(TsigError);
    expect(await bind.dig('badkey.redis.test.', 'A')).toEqual(['10.0.4.1']);
  });

  it('refuses an unsigned update', async () => {
    const err = await rejection(
      compareAndSwap({ ...target, key: undefined }, { name: 'unsigned.redis.test.', type: 'A', ttl: 30, expected: null, next: '10.0.7.2' }),
    );
    expect(err.rcode).toBe('REFUSED');
    expect(await bind.dig('unsigned.redis.test.', 'A')).toEqual(['10.0.7.1']);
  });

  it('answers unsigned queries without a key', async () => {
    expect(await queryAddresses({ ...target, key: undefined }, 'unsigned.redis.test.', 'A')).toEqual(['10.0.7.1']);
  });

  it('rejects a signed reply whose MAC was corrupted in transit', async () => {
    const port = await corruptingProxy();
    const err = await rejection(
      compareAndSwap({ ...target, port }, { name: 'tampered.redis.test.', type: 'A', ttl: 30, expected: ['10.0.8.1'], next: '10.0.8.2' }),
    );
    expect(err).toMatchObject({ rcode: 'BADRESPONSE', tsigError: 'BADSIG' });
    // The request itself was genuine, so the server did apply it: only its answer is untrusted.
    expect(await bind.dig('tampered.redis.test.', 'A')).toEqual(['10.0.8.2']);
  });

  it('surfaces NOTZONE for a name outside the zone', async () => {
    const err = await rejection(compareAndSwap(target, { name: 'elsewhere.example.', type: 'A', ttl: 30, expected: null, next: '10.0.0.1' }));
    expect(err.rcode).toBe('NOTZONE');
    expect(err.tsigError).toBeUndefined();
  });

  it('surfaces NOTAUTH for a zone the server does not serve', async () => {
    const err = await rejection(compareAndSwap({ ...target, zone: 'example.' }, { name: 'a.example.', type: 'A', ttl: 30, expected: null, next: '10.0.0.1' }));
    expect(err.rcode).toBe('NOTAUTH');
    expect(err.tsigError).toBeUndefined();
  });
});

describe('failures of the path to the server', () => {
  const change = { name: 'cas.redis.test.', type: 'A' as const, ttl: 30, expected: null, next: '10.0.1.9' };

  it('times out on a server that accepts but never answers, and keeps working afterwards', async () => {
    // Reads and discards the request (resume) so that it sees our close, but never answers.
    const port = await listen(createServer((socket) => socket.on('error', () => undefined).resume()));
    const started = Date.now();
    const err = await rejection(compareAndSwap({ ...target, port, timeoutMs: 300 }, change));
    expect(err.rcode).toBe('TIMEOUT');
    expect(err.message).toBe(`no reply from 127.0.0.1:${port} within 300 ms`);
    expect(Date.now() - started).toBeLessThan(1500);
    await compareAndSwap(target, change);
    expect(await bind.dig(change.name, 'A')).toEqual([change.next]);
  });

  it('fails fast and clearly when nothing listens', async () => {
    const port = await freePort();
    const started = Date.now();
    const err = await rejection(compareAndSwap({ ...target, port, timeoutMs: 2000 }, change));
    expect(err.rcode).toBe('CONNECTION');
    expect(err.message).toContain(`DNS server 127.0.0.1:${port}: connect ECONNREFUSED`);
    expect(Date.now() - started).toBeLessThan(2000);
    await compareAndSwap(target, change);
    expect(await queryAddresses(target, change.name, 'A')).toEqual([change.next]);
  });
});
