/**
 * `npm run demo`: Vigil on this machine with embedded defaults. A PostgreSQL cluster kept in
 * .vigil-demo/, a replication group of three real redis-server processes, the controller and three
 * probe agents in three zones. Prints the URLs and the admin token; Ctrl-C stops everything.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync, createWriteStream } from 'node:fs';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { freePort, type ManagedProcess, type RedisServer, startPostgres, startProcess, startReplicationGroup, waitFor } from '../libs/testing/src/index.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const STATE = join(ROOT, '.vigil-demo');
const LOGS = join(STATE, 'logs');
const ZONES = ['zone-a', 'zone-b', 'zone-c'];

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- loosely typed JSON answers
type DemoAnswer = any;

async function portOr(preferred: number): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((done) => {
    const srv = createServer();
    srv.once('error', () => void freePort().then(done));
    srv.listen(preferred, '127.0.0.1', () => srv.close(() => done(preferred)));
  });
}

function persisted(file: string, make: () => string): string {
  const path = join(STATE, file);
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  const value = make();
  writeFileSync(path, `${value}\n`, { mode: 0o600 });
  return value;
}

function logTo(proc: ManagedProcess, name: string): void {
  const out = createWriteStream(join(LOGS, `${name}.log`), { flags: 'a' });
  proc.child.stdout?.pipe(out);
  proc.child.stderr?.pipe(out);
}

async function main(): Promise<void> {
  mkdirSync(LOGS, { recursive: true });
  const adminToken = persisted('admin-token', () => `demo-admin-${randomBytes(18).toString('base64url')}`);
  const secretKey = persisted('secret-key', () => randomBytes(32).toString('hex'));
  const stoppers: (() => Promise<unknown>)[] = [];
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    console.log('\nstopping the demo…');
    for (const stop of stoppers.reverse()) await stop().catch(() => undefined);
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  try {
    console.log('starting PostgreSQL (data in .vigil-demo/pgdata)…');
    const postgres = await startPostgres({ dataDir: join(STATE, 'pgdata'), port: await portOr(55432) });
    stoppers.push(() => postgres.stop());
    const admin = new pg.Client({ connectionString: postgres.adminUrl });
    await admin.connect();
    if ((await admin.query(`SELECT 1 FROM pg_database WHERE datname = 'vigil'`)).rowCount === 0) await admin.query('CREATE DATABASE vigil');
    await admin.end();

    console.log('starting the demo replication group (1 master, 2 replicas)…');
    const ports = [await portOr(7001), await portOr(7002), await portOr(7003)];
    const group: RedisServer[] = await startReplicationGroup(2, { ports });
    stoppers.push(() => Promise.all(group.map((s) => s.stop())));

    const httpPort = await portOr(8080);
    const sentinelPort = await portOr(26379);
    const dnsPort = await portOr(5353);
    const url = `http://127.0.0.1:${httpPort}`;
    console.log('starting the controller…');
    const controller = startProcess('node', [join(ROOT, 'dist/apps/controller/src/main.js')], {
      env: {
        ...process.env,
        DATABASE_URL: postgres.url('vigil'),
        VIGIL_SECRET_KEY: secretKey,
        VIGIL_ADMIN_TOKEN: adminToken,
        HTTP_PORT: String(httpPort),
        SENTINEL_PORT: String(sentinelPort),
        DNS_PORT: String(dnsPort),
        DNS_ZONE: 'redis.demo.',
        SENTINEL_ANNOUNCE_IP: '127.0.0.1',
        CONTROLLER_NAME: 'demo-controller',
      },
    });
    logTo(controller, 'controller');
    stoppers.push(() => controller.stop());
    await waitFor(
      async () => {
        if (controller.child.exitCode !== null) throw new Error(`controller exited:\n${controller.output().slice(-3000)}`);
        return (await fetch(`${url}/health/ready`)).ok;
      },
      60_000,
      'the controller',
    );

    const api = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${url}/api/v1${path}`, {
        method,
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json().catch(() => undefined)) as DemoAnswer };
    };

    // The demo cluster follows this run's ports and roles: recreate it when they changed since the last run.
    const nodes = group.map((s, i) => ({ host: s.host, port: s.port, zone: ZONES[i] }));
    const existing = await api('GET', '/clusters/demo');
    const same =
      existing.status === 200 &&
      nodes.every((n) => existing.body.nodes.some((e: { port: number }) => e.port === n.port)) &&
      existing.body.nodes.length === nodes.length &&
      // This run starts the group afresh with its first server as master: a record from an earlier failover would disagree.
      existing.body.master?.port === group[0]!.port;
    if (existing.status === 200 && !same) await api('DELETE', '/clusters/demo');
    if (!same) {
      const created = await api('POST', '/clusters', { name: 'demo', quorum: 2, downAfterMs: 5000, nodes });
      if (created.status !== 201) throw new Error(`could not create the demo cluster: ${JSON.stringify(created.body)}`);
    }

    console.log('starting three probe agents…');
    // Agent tokens are kept across runs; one that the database no longer knows (or revoked) is replaced.
    const tokens = JSON.parse(persisted('agent-tokens.json', () => '{}')) as Record<string, { id: string; token: string } | undefined>;
    const live = new Set(((await api('GET', '/tokens')).body.items as { id: string; revokedAt: string | null }[]).filter((t) => !t.revokedAt).map((t) => t.id));
    for (const zone of ZONES) {
      const name = `demo-agent-${zone}`;
      if (!tokens[name] || !live.has(tokens[name].id)) {
        await api('DELETE', `/agents/${name}`); // its name is bound to the lost token
        const created = await api('POST', '/tokens', { name: `${name}-${Date.now()}`, role: 'agent' });
        tokens[name] = { id: created.body.id, token: created.body.token };
      }
      const agent = startProcess('node', [join(ROOT, 'dist/apps/probe-agent/src/main.js')], {
        env: { ...process.env, VIGIL_CONTROLLER_URL: url, VIGIL_AGENT_TOKEN: tokens[name].token, VIGIL_AGENT_NAME: name, VIGIL_AGENT_ZONE: zone },
      });
      logTo(agent, name);
      stoppers.push(() => agent.stop());
    }
    writeFileSync(join(STATE, 'agent-tokens.json'), JSON.stringify(tokens, null, 2), { mode: 0o600 });

    const master = (await api('GET', '/clusters/demo')).body.master;
    console.log(`
Vigil is running.

  Console      ${url}/   (sign in with the admin token below)
  API          ${url}/api/v1
  API docs     ${url}/api/docs   (OpenAPI: ${url}/api/openapi.json)
  Health       ${url}/health/ready
  Metrics      ${url}/metrics
  Sentinel     127.0.0.1:${sentinelPort}   (Sentinel-compatible: point Sentinel clients here, master name "demo")
  DNS          127.0.0.1:${dnsPort}   (UDP and TCP, zone redis.demo.)
  Admin token  ${adminToken}

  Demo cluster "demo": master ${master ? `${master.host}:${master.port}` : 'not found yet'}, replicas on ${group
    .slice(1)
    .map((s) => s.port)
    .join(', ')}
  Postgres     ${postgres.url('vigil')}
  Logs         .vigil-demo/logs/

Try:
  curl -s -H 'Authorization: Bearer ${adminToken}' ${url}/api/v1/clusters
  curl -s -H 'Authorization: Bearer ${adminToken}' ${url}/api/v1/agents
  curl -s -H 'Authorization: Bearer ${adminToken}' ${url}/api/v1/clusters/demo/health   # each node as every agent sees it
  curl -s -H 'Authorization: Bearer ${adminToken}' '${url}/api/v1/clusters/demo/master?waitEpochAfter=0&timeoutMs=60000' &   # waits for a failover
  redis-cli -p ${sentinelPort} SENTINEL get-master-addr-by-name demo
  dig @127.0.0.1 -p ${dnsPort} +short demo.redis.demo A; dig @127.0.0.1 -p ${dnsPort} +short _redis._tcp.demo.redis.demo SRV
  kill -9 ${group[0]!.process.child.pid}   # crash the master (redis-server on ${group[0]!.port}), then read the health and events again
  curl -s -H 'Authorization: Bearer ${adminToken}' '${url}/api/v1/events?cluster=demo'

Ctrl-C stops everything the demo started.`);
  } catch (err) {
    console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
    await stopAll(1);
  }
}

void main();
