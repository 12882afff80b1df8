import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Redis as IORedis5 } from 'ioredis';
import { Redis as IORedis6 } from 'ioredis6';
import { createSentinel } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DnsResponderService } from '../apps/controller/src/dns/dns-responder.service.js';
import { SentinelService } from '../apps/controller/src/sentinel/sentinel.service.js';
import { type RedisServer, startReplicationGroup, waitFor } from '../libs/testing/src/index.js';
import { type Api, freshDatabase, startTestController, type TestController } from './support/controller.js';
import { type AgentProcess, sleep, startAgentProcess, waitAllUp, waitForEvent } from './support/detection-rig.js';
import { cmd, rawConnect } from './support/resp.js';

const run = promisify(execFile);
const DOWN_AFTER_MS = 1000;
const ZONE = 'redis.test.';

/** `dig` against the built-in responder; answers as dig's `+short` lines, or the whole output with `full`. */
async function dig(port: number, name: string, type: string, ...flags: string[]): Promise<string> {
  const { stdout } = await run('dig', ['@127.0.0.1', '-p', String(port), name, type, '+time=2', '+tries=1', ...flags]);
  return stdout.trim();
}

/** A writer that keeps INCRementing one key through any client, counting successes and failures. */
function keepWriting(incr: () => Promise<unknown>) {
  const state = { ok: 0, failed: 0, okAfter: (_t: number) => 0, stop: () => undefined as void };
  const oks: number[] = [];
  let stopped = false;
  void (async () => {
    while (!stopped) {
      try {
        await incr();
        state.ok++;
        oks.push(Date.now());
      } catch {
        state.failed++;
        await sleep(20);
      }
      await sleep(10);
    }
  })();
  state.okAfter = (t: number) => oks.filter((x) => x > t).length;
  state.stop = () => {
    stopped = true;
  };
  return state;
}

/** Pairs of a RESP2 flat name/value array as an object. */
function pairs(flat: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < flat.length; i += 2) out[flat[i]!] = flat[i + 1]!;
  return out;
}

describe('publishing the master: REST, Sentinel-compatible endpoint, built-in DNS', () => {
  let controller: TestController;
  let standby: TestController;
  let api: Api;
  let port: number;
  let standbyPort: number;
  let dnsPort: number;
  const agents: AgentProcess[] = [];
  let servers: RedisServer[] = [];

  beforeAll(async () => {
    const db = await freshDatabase();
    controller = await startTestController(db, {
      SENTINEL_PORT: '0',
      SENTINEL_ANNOUNCE_IP: '127.0.0.1',
      DNS_PORT: '0',
      DNS_ZONE: ZONE,
      DNS_TTL: '3',
      PUBLISH_HOST: '127.0.0.1',
      AGENT_STALE_AFTER_MS: '1000',
    });
    // A second replica with a password: it is listed by SENTINEL sentinels and answers only after AUTH.
    standby = await startTestController(db, {
      SENTINEL_PORT: '0',
      SENTINEL_ANNOUNCE_IP: '127.0.0.1',
      SENTINEL_PASSWORD: 'sentinel-secret',
      CONTROLLER_NAME: 'standby',
      AGENT_STALE_AFTER_MS: '1000',
    });
    api = controller.api;
    port = controller.app.get(SentinelService).port;
    standbyPort = standby.app.get(SentinelService).port;
    dnsPort = controller.app.get(DnsResponderService).port;
    const token = (await api('POST', '/api/v1/tokens', { body: { name: 'probes', role: 'agent' } })).body.token;
    for (const z of ['a', 'b', 'c']) {
      agents.push(startAgentProcess(`probe-${z}`, `zone-${z}`, token, `${controller.url},${standby.url}`, { PROBE_INTERVAL_MS: '100' }));
    }
    await waitFor(async () => (await api('GET', '/api/v1/leadership')).body.leader === true, 10_000, 'the first controller to lead');
    servers = await startReplicationGroup(2);
    const res = await api('POST', '/api/v1/clusters', {
      body: { name: 'orders', nodes: servers.map((s, i) => ({ host: s.host, port: s.port, priority: 10 + i })), quorum: 2, downAfterMs: DOWN_AFTER_MS },
    });
    expect(res.status).toBe(201);
    await waitAllUp(api, 'orders', 3);
    await waitAllUp(standby.api, 'orders', 3);
  }, 90_000);

  afterAll(async () => {
    await Promise.all(agents.map((a) => a.process.stop()));
    await standby?.close();
    await controller?.close();
    await Promise.all(servers.map((s) => s.stop()));
  });

  it('GET /clusters/{name}/master answers from memory with an ETag; If-None-Match gives 304; the watch waits and times out', async () => {
    const [master] = servers;
    const res = await api('GET', '/api/v1/clusters/orders/master');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ host: '127.0.0.1', port: master!.port, epoch: 0, since: expect.any(String), stale: false });
    const etag = res.headers.get('etag')!;
    expect(etag).toBe(`"0-127.0.0.1-${master!.port}"`);
    expect((await api('GET', '/api/v1/clusters/orders/master', { headers: { 'if-none-match': etag } })).status).toBe(304);
    expect((await standby.api('GET', '/api/v1/clusters/orders/master')).body).toEqual(res.body);

    const t0 = Date.now();
    const timedOut = await api('GET', '/api/v1/clusters/orders/master?waitEpochAfter=0&timeoutMs=300', { headers: { 'if-none-match': etag } });
    expect(timedOut.status).toBe(304);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    // Bad watch parameters are refused with the field named.
    expect((await api('GET', '/api/v1/clusters/orders/master?waitEpochAfter=-1')).status).toBe(400);
    expect((await api('GET', '/api/v1/clusters/nope/master')).status).toBe(404);
    const bad = await api('GET', '/api/v1/clusters/orders/master?timeoutMs=9999999');
    expect(bad.status).toBe(400);
    expect(bad.body.details[0].field).toBe('timeoutMs');
    expect((await api('GET', '/api/v1/clusters/orders/master', { token: null })).status).toBe(401);
    const unknown = await api('GET', '/api/v1/clusters/orders/master?foo=1');
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({ error: 'validation_failed', details: [{ field: 'foo' }] });
    expect((await api('GET', '/api/v1/clusters/Not_A_Name/master')).body.details[0].field).toBe('name');
    const traced = await api('GET', '/api/v1/clusters/orders/master', { headers: { 'x-request-id': 'trace-1' } });
    expect(traced.headers.get('x-request-id')).toBe('trace-1');
    const agentToken = (await api('POST', '/api/v1/tokens', { body: { name: 'lookup-agent', role: 'agent' } })).body.token;
    expect((await api('GET', '/api/v1/clusters/orders/master', { token: agentToken })).status).toBe(403);
    // Once verified and remembered, a token without the role is still refused, and errors keep the request id.
    const refused = await api('GET', '/api/v1/clusters/orders/master', { token: agentToken, headers: { 'x-request-id': 'trace-2' } });
    expect([refused.status, refused.headers.get('x-request-id')]).toEqual([403, 'trace-2']);
    // Counted in the metrics like every route.
    expect(await (await fetch(`${controller.url}/metrics`)).text()).toMatch(
      /vigil_http_requests_total\{[^}]*route="\/api\/v1\/clusters\/:name\/master"[^}]*status="200"/,
    );
  });

  it('the built-in DNS responder answers A and SRV for the master, replicas, SOA and NS, NXDOMAIN and NODATA with the SOA, REFUSED outside the zone', async () => {
    const [master] = servers;
    expect(await dig(dnsPort, `orders.${ZONE}`, 'A', '+short')).toBe('127.0.0.1');
    expect(await dig(dnsPort, `_redis._tcp.orders.${ZONE}`, 'SRV', '+short')).toBe(`0 0 ${master!.port} orders.${ZONE}`);
    expect(await dig(dnsPort, `_redis._tcp.orders.${ZONE}`, 'SRV', '+short', '+tcp')).toBe(`0 0 ${master!.port} orders.${ZONE}`);
    // Both replicas live on 127.0.0.1: one record (an RRset holds no duplicates).
    expect(await dig(dnsPort, `replicas.orders.${ZONE}`, 'A', '+short')).toBe('127.0.0.1');
    const full = await dig(dnsPort, `OrDeRs.${ZONE}`, 'A', '+norecurse');
    expect(full).toMatch(/status: NOERROR/);
    expect(full).toMatch(/flags: qr aa/);
    expect(full).toMatch(/OrDeRs\.redis\.test\.\s+3\s+IN\s+A\s+127\.0\.0\.1/);
    const nx = await dig(dnsPort, `nope.${ZONE}`, 'A');
    expect(nx).toMatch(/status: NXDOMAIN/);
    expect(nx).toMatch(/AUTHORITY SECTION:\s+redis\.test\.\s+3\s+IN\s+SOA/);
    const nodata = await dig(dnsPort, `orders.${ZONE}`, 'MX');
    expect(nodata).toMatch(/status: NOERROR/);
    expect(nodata).toMatch(/ANSWER: 0/);
    expect(nodata).toMatch(/AUTHORITY SECTION:\s+redis\.test\.\s+3\s+IN\s+SOA/);
    expect(await dig(dnsPort, 'example.com.', 'A')).toMatch(/status: REFUSED/);
    expect(await dig(dnsPort, ZONE, 'SOA', '+short')).toMatch(/^ns\.redis\.test\. hostmaster\.redis\.test\. \d+ 3600 600 86400 3$/);
    expect(await dig(dnsPort, ZONE, 'NS', '+short')).toBe(`ns.${ZONE}`);
  });

  it('keeps the SOA serial while nothing a client can see changes (settings, reloads), and raises it when an answer changes', async () => {
    const serial = async () => Number((await dig(dnsPort, ZONE, 'SOA', '+short')).split(' ')[2]);
    const before = await serial();
    // A setting the zone does not carry: committed and reloaded before the PATCH answers.
    expect((await api('PATCH', '/api/v1/clusters/orders', { body: { cooldownMs: 123_456 } })).status).toBe(200);
    const fullReloads = async () =>
      Number(/vigil_topology_reloads_total\{[^}]*kind="full"[^}]*\} (\d+)/.exec(await (await fetch(`${controller.url}/metrics`)).text())?.[1] ?? NaN);
    const full = await fullReloads();
    expect(full).toBeGreaterThan(0);
    // ...and a full reload (every 10 s) in between: still the same zone.
    await waitFor(async () => (await fullReloads()) > full, 15_000, 'a full reload');
    expect(await serial()).toBe(before);
    // A new cluster is a new name: the serial moves on.
    const created = await api('POST', '/api/v1/clusters', {
      body: { name: 'soa-probe', quorum: 2, downAfterMs: 5000, autoFailover: false, nodes: [{ host: '127.0.0.1', port: 1 }] },
    });
    expect(created.status).toBe(201);
    try {
      expect(await serial()).toBeGreaterThan(before);
    } finally {
      expect((await api('DELETE', '/api/v1/clusters/soa-probe')).status).toBe(204);
    }
  }, 30_000);

  it('answers get-master-addr-by-name as Sentinel does (bulk port, null array for an unknown name), also to redis-cli', async () => {
    const [master] = servers;
    const c = await rawConnect(port);
    c.send(cmd('SENTINEL', 'get-master-addr-by-name', 'orders') + cmd('SENTINEL', 'get-master-addr-by-name', 'nope'));
    const expected = `*2\r\n$9\r\n127.0.0.1\r\n$${String(master!.port).length}\r\n${master!.port}\r\n*-1\r\n`;
    expect(await c.until((t) => t.length >= expected.length)).toBe(expected);
    // RESP3: the unknown name is a null.
    c.send(cmd('HELLO', '3') + cmd('SENTINEL', 'get-master-addr-by-name', 'nope'));
    expect(await c.until((t) => t.endsWith('_\r\n'))).toMatch(/%7\r\n\$6\r\nserver\r\n\$5\r\nredis\r\n[\s\S]*\$4\r\nmode\r\n\$8\r\nsentinel\r\n[\s\S]*_\r\n$/);
    c.close();

    const { stdout } = await run('redis-cli', ['-p', String(port), 'SENTINEL', 'get-master-addr-by-name', 'orders']);
    expect(stdout.trim().split('\n')).toEqual(['127.0.0.1', String(master!.port)]);
  });

  it('describes masters, replicas and the other controller replicas with Sentinel field names, flat in RESP2 and maps in RESP3', async () => {
    const [master, r1, r2] = servers;
    const client = new IORedis5({ port, lazyConnect: true });
    await client.connect();
    try {
      const masters = (await client.call('SENTINEL', 'masters')) as string[][];
      expect(masters).toHaveLength(1);
      const m = pairs(masters[0]!);
      expect(m).toMatchObject({
        name: 'orders',
        ip: '127.0.0.1',
        port: String(master!.port),
        flags: 'master',
        'num-slaves': '2',
        quorum: '2',
        'config-epoch': '0',
      });
      expect(m['down-after-milliseconds']).toBe(String(DOWN_AFTER_MS));
      expect(m['role-reported']).toBe('master');
      expect(m['runid']).toMatch(/^[0-9a-f]{40}$/);
      expect(masters[0]!.slice(0, 10).filter((_, i) => i % 2 === 0)).toEqual(['name', 'ip', 'port', 'runid', 'flags']);

      const replicas = ((await client.call('SENTINEL', 'replicas', 'orders')) as string[][]).map(pairs);
      expect(replicas.map((r) => Number(r['port'])).sort()).toEqual([r1!.port, r2!.port].sort());
      for (const r of replicas) {
        expect(r).toMatchObject({ flags: 'slave', 'master-link-status': 'ok', 'master-host': '127.0.0.1', 'master-port': String(master!.port) });
        expect(r['name']).toBe(`127.0.0.1:${r['port']}`);
        expect(Number(r['slave-repl-offset'])).toBeGreaterThanOrEqual(0);
      }
      expect(((await client.call('SENTINEL', 'slaves', 'orders')) as unknown[]).length).toBe(2);

      await waitFor(async () => ((await client.call('SENTINEL', 'sentinels', 'orders')) as unknown[]).length === 1, 10_000, 'the standby to be listed');
      const peers = ((await client.call('SENTINEL', 'sentinels', 'orders')) as string[][]).map(pairs);
      expect(peers[0]).toMatchObject({ ip: '127.0.0.1', port: String(standbyPort), flags: 'sentinel' });

      expect(await client.call('SENTINEL', 'ckquorum', 'orders')).toMatch(/^OK 3 usable/);
      await expect(client.call('SENTINEL', 'master', 'nope')).rejects.toThrow('ERR No such master with that name');
      await expect(client.call('SENTINEL', 'nosuch')).rejects.toThrow("ERR unknown subcommand 'nosuch'. Try SENTINEL HELP.");
      await expect(client.call('FLUSHALL')).rejects.toThrow("ERR unknown command 'FLUSHALL', with args beginning with: ");
      expect(await client.call('ROLE')).toEqual(['sentinel', ['orders']]);
      const info = (await client.call('INFO', 'sentinel')) as string;
      expect(info).toContain('sentinel_masters:1');
      expect(info).toContain(`master0:name=orders,status=ok,address=127.0.0.1:${master!.port},slaves=2,sentinels=2`);
      expect(await client.call('CLIENT', 'SETNAME', 'probe')).toBe('OK');
      expect(await client.call('CLIENT', 'GETNAME')).toBe('probe');
      expect(await client.ping()).toBe('PONG');
    } finally {
      client.disconnect();
    }

    // RESP3: the same description as a map.
    const c = await rawConnect(port);
    c.send(cmd('HELLO', '3') + cmd('SENTINEL', 'master', 'orders'));
    const text = await c.until((t) => /\$12\r\nconfig-epoch\r\n/.test(t) && t.endsWith('\r\n') && /parallel-syncs\r\n\$1\r\n1\r\n$/.test(t));
    expect(text).toMatch(/%\d+\r\n\$4\r\nname\r\n\$6\r\norders\r\n\$2\r\nip\r\n\$9\r\n127\.0\.0\.1\r\n/);
    c.close();
  });

  it('answers pipelined requests in order, and a malformed request closes only its own connection', async () => {
    const good = await rawConnect(port);
    const bad = await rawConnect(port);
    good.send(cmd('PING') + cmd('PING', 'hello') + 'PING\r\n' + cmd('CLIENT', 'ID'));
    expect(await good.until((t) => /:\d+\r\n$/.test(t))).toMatch(/^\+PONG\r\n\$5\r\nhello\r\n\+PONG\r\n:\d+\r\n$/);
    bad.send('*2\r\n$4\r\nPING\r\nxx\r\n');
    await bad.closed;
    expect(bad.received()).toMatch(/^-ERR Protocol error/);
    good.send(cmd('SENTINEL', 'get-master-addr-by-name', 'orders'));
    expect(await good.until((t) => t.includes('*2\r\n$9\r\n127.0.0.1'))).toContain('*2\r\n$9\r\n127.0.0.1');
    good.close();
  });

  it('asks for the password when one is set (AUTH and HELLO AUTH)', async () => {
    const c = await rawConnect(standbyPort);
    c.send(cmd('SENTINEL', 'get-master-addr-by-name', 'orders'));
    expect(await c.until((t) => t.includes('\r\n'))).toBe('-NOAUTH Authentication required.\r\n');
    c.send(cmd('AUTH', 'wrong'));
    expect(await c.until((t) => t.includes('WRONGPASS'))).toContain('-WRONGPASS invalid username-password pair or user is disabled.\r\n');
    c.send(cmd('HELLO', '2', 'AUTH', 'default', 'sentinel-secret') + cmd('SENTINEL', 'get-master-addr-by-name', 'orders'));
    expect(await c.until((t) => t.includes('*2\r\n$9\r\n127.0.0.1'))).toContain(`$${String(servers[0]!.port).length}\r\n${servers[0]!.port}\r\n`);
    c.close();
    const client = new IORedis5({ port: standbyPort, password: 'sentinel-secret', lazyConnect: true });
    await client.connect();
    expect(await client.call('SENTINEL', 'get-master-addr-by-name', 'orders')).toEqual(['127.0.0.1', String(servers[0]!.port)]);
    client.disconnect();
  });

  it('ioredis 5 and 6 and node-redis Sentinel clients, given only Vigil endpoints, keep writing through a master crash; +switch-master reaches subscribers', async () => {
    const [master] = servers;
    const sentinels = [
      { host: '127.0.0.1', port },
      { host: '127.0.0.1', port: standbyPort },
    ];
    const io5 = new IORedis5({ sentinels, name: 'orders', sentinelPassword: undefined, enableOfflineQueue: true, maxRetriesPerRequest: 1 });
    // ioredis 6 is given only the endpoint without a password (the other needs one).
    const io6 = new IORedis6({ sentinels: [sentinels[0]!], name: 'orders', maxRetriesPerRequest: 1, updateSentinels: false });
    const nr = createSentinel({ name: 'orders', sentinelRootNodes: [sentinels[0]!] });
    nr.on('error', () => undefined);
    io5.on('error', () => undefined);
    io6.on('error', () => undefined);
    await nr.connect();
    await Promise.all([io5.ping(), io6.ping()]);

    const sub = new IORedis5({ port, lazyConnect: true });
    await sub.connect();
    const messages: { channel: string; message: string }[] = [];
    sub.on('message', (channel: string, message: string) => messages.push({ channel, message }));
    sub.on('pmessage', (_p: string, channel: string, message: string) => messages.push({ channel, message }));
    await sub.subscribe('+switch-master');
    await sub.psubscribe('[-+]odown', '+try-failover', '+promoted-slave', '+failover-end');

    const writers = {
      ioredis5: keepWriting(() => io5.incr('w:io5')),
      ioredis6: keepWriting(() => io6.incr('w:io6')),
      nodeRedis: keepWriting(() => nr.incr('w:nr')),
    };
    await sleep(300);
    for (const w of Object.values(writers)) expect(w.ok).toBeGreaterThan(0);

    const before = (await api('GET', '/api/v1/clusters/orders/master')).body;
    const watch = api('GET', `/api/v1/clusters/orders/master?waitEpochAfter=${before.epoch}&timeoutMs=30000`);
    const standbyWatch = standby.api('GET', `/api/v1/clusters/orders/master?waitEpochAfter=${before.epoch}&timeoutMs=30000`);
    master!.signal('SIGKILL');
    const killedAt = Date.now();
    const watched = await watch;
    const done = await waitForEvent(api, 'orders', 'failover.succeeded', 20_000);
    const newMaster = done.data.to as string;
    const [, newPort] = newMaster.split(':');
    // The watch returned the new master, under a higher epoch, on both replicas.
    expect(watched.status).toBe(200);
    expect(watched.body).toMatchObject({ host: '127.0.0.1', port: Number(newPort), epoch: before.epoch + 1 });
    expect((await standbyWatch).body).toMatchObject({ port: Number(newPort), epoch: before.epoch + 1 });
    // DNS already answers the new master.
    expect(await dig(dnsPort, `_redis._tcp.orders.${ZONE}`, 'SRV', '+short')).toBe(`0 0 ${newPort} orders.${ZONE}`);
    // Publication came before re-pointing the replicas (the record's steps are in order).
    const record = (await api('GET', `/api/v1/failovers/${done.data.failoverId ?? (await api('GET', '/api/v1/clusters/orders/failovers')).body.items[0].id}`))
      .body;
    const names = record.steps.map((x: { name: string }) => x.name);
    expect(names.indexOf('published')).toBeLessThan(names.indexOf('clients_disconnected'));
    expect(names.indexOf('clients_disconnected')).toBeLessThan(names.indexOf('replicas_repointed'));

    await waitFor(async () => Object.values(writers).every((w) => w.okAfter(killedAt) > 5), 20_000, 'every client to write to the new master');
    for (const w of Object.values(writers)) w.stop();

    // Each client's writes landed on the promoted node.
    const promoted = servers.find((s) => String(s.port) === newPort)!;
    const direct = promoted.client();
    await direct.connect();
    expect(Number(await direct.get('w:io5'))).toBeGreaterThan(0);
    expect(Number(await direct.get('w:io6'))).toBeGreaterThan(0);
    expect(Number(await direct.get('w:nr'))).toBeGreaterThan(0);
    expect(await direct.call('ROLE')).toEqual(['master', expect.any(Number), expect.any(Array)]);
    direct.disconnect();

    await waitFor(async () => messages.some((m) => m.channel === '+switch-master'), 5000, '+switch-master');
    const sw = messages.find((m) => m.channel === '+switch-master')!;
    expect(sw.message).toBe(`orders 127.0.0.1 ${master!.port} 127.0.0.1 ${newPort}`);
    expect(messages.find((m) => m.channel === '+odown')?.message).toMatch(new RegExp(`^master orders 127\\.0\\.0\\.1 ${master!.port} #quorum [23]/2$`));
    await waitFor(async () => messages.some((m) => m.channel === '+failover-end'), 5000, '+failover-end');
    expect(messages.find((m) => m.channel === '+promoted-slave')?.message).toBe(
      `slave 127.0.0.1:${newPort} 127.0.0.1 ${newPort} @ orders 127.0.0.1 ${master!.port}`,
    );

    // The lookup on both replicas now gives the new master.
    for (const p of [port, standbyPort]) {
      const lookup = new IORedis5({ port: p, password: p === standbyPort ? 'sentinel-secret' : undefined, lazyConnect: true });
      await lookup.connect();
      expect(await lookup.call('SENTINEL', 'get-master-addr-by-name', 'orders')).toEqual(['127.0.0.1', newPort]);
      lookup.disconnect();
    }
    sub.disconnect();
    io5.disconnect();
    io6.disconnect();
    nr.destroy();
  }, 60_000);
});
