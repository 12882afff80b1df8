import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, type ManagedProcess, startProcess, waitFor } from '../libs/testing/src/index.js';
import { ADMIN_TOKEN, apiClient, type Api, freshDatabase, SECRET_KEY } from './support/controller.js';

const run = promisify(execFile);
const CONTROLLER = 'dist/apps/controller/src/main.js';
const AGENT = 'dist/apps/probe-agent/src/main.js';
const MIGRATE = 'dist/apps/controller/src/database/migrate.js';

/** The built entrypoints as real processes: what `npm run start:controller` / `start:agent` run. */
describe('controller and probe agents as real processes', () => {
  const procs: ManagedProcess[] = [];
  let url: string;
  let api: Api;
  let agentToken: string;

  const startAgent = (name: string, zone: string, token: string, controllers: string) => {
    const p = startProcess('node', [AGENT], {
      env: { ...process.env, VIGIL_CONTROLLER_URL: controllers, VIGIL_AGENT_TOKEN: token, VIGIL_AGENT_NAME: name, VIGIL_AGENT_ZONE: zone, LOG_LEVEL: 'info' },
    });
    procs.push(p);
    return p;
  };

  beforeAll(async () => {
    if (!existsSync(CONTROLLER) || !existsSync(AGENT)) throw new Error('build output missing: run `npm run build` (npm test does it for you)');
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    api = apiClient(url);
    const controller = startProcess('node', [CONTROLLER], {
      env: {
        ...process.env,
        DATABASE_URL: await freshDatabase(),
        VIGIL_SECRET_KEY: SECRET_KEY,
        VIGIL_ADMIN_TOKEN: ADMIN_TOKEN,
        HTTP_PORT: String(port),
        HTTP_HOST: '127.0.0.1',
        CONTROLLER_NAME: 'e2e',
        AGENT_HEARTBEAT_INTERVAL_MS: '200',
        AGENT_STALE_AFTER_MS: '1000',
      },
    });
    procs.push(controller);
    await waitFor(
      async () => {
        if (controller.child.exitCode !== null) throw new Error(controller.output());
        return (await fetch(`${url}/health/ready`)).ok;
      },
      30_000,
      'the controller process to be ready',
    );
    agentToken = (await api('POST', '/api/v1/tokens', { body: { name: 'agents', role: 'agent' } })).body.token;
  });

  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop()));
  });

  it('refuses to start on bad configuration with one line naming the variable', async () => {
    const env = { PATH: process.env['PATH'] ?? '', DATABASE_URL: 'postgres://x@127.0.0.1:1/x' };
    const controller = await run('node', [CONTROLLER], { env }).catch((e: { code: number; stderr: string }) => e);
    expect(controller).toMatchObject({ code: 2, stderr: 'invalid configuration: VIGIL_SECRET_KEY is required\n' });
    const agent = await run('node', [AGENT], { env: { PATH: env.PATH, VIGIL_CONTROLLER_URL: url } }).catch((e: { code: number; stderr: string }) => e);
    expect(agent).toMatchObject({ code: 2, stderr: 'invalid configuration: VIGIL_AGENT_TOKEN is required\n' });
  });

  it('applies migrations from the command line, idempotently', async () => {
    const env = { ...process.env, DATABASE_URL: await freshDatabase() };
    expect((await run('node', [MIGRATE, 'run'], { env })).stdout).toMatch(/^applied: InitialTopology/);
    expect((await run('node', [MIGRATE, 'run'], { env })).stdout).toBe('database is up to date\n');
  });

  it('lists three agents in three zones that registered and keep heartbeating', async () => {
    for (const zone of ['a', 'b', 'c']) startAgent(`probe-${zone}`, `zone-${zone}`, agentToken, url);
    const first = await waitFor(
      async () => {
        const items = (await api('GET', '/api/v1/agents')).body.items as { name: string; zone: string; state: string; lastSeenAt: string }[];
        return items.length === 3 && items.every((a) => a.state === 'active') ? items : undefined;
      },
      20_000,
      'three active agents',
    );
    expect(first.map((a) => [a.name, a.zone])).toEqual([
      ['probe-a', 'zone-a'],
      ['probe-b', 'zone-b'],
      ['probe-c', 'zone-c'],
    ]);
    await waitFor(
      async () => {
        const items = (await api('GET', '/api/v1/agents')).body.items as { lastSeenAt: string }[];
        return items.every((a, i) => Date.parse(a.lastSeenAt) > Date.parse(first[i]!.lastSeenAt));
      },
      5000,
      'heartbeats to advance last-seen',
    );
    const events = (await api('GET', '/api/v1/events?type=agent.registered')).body.items;
    expect(events.map((e: { actor: string }) => e.actor).sort()).toEqual(['agent:probe-a', 'agent:probe-b', 'agent:probe-c']);
  });

  it('marks an agent stale when it stops', async () => {
    const victim = startAgent('probe-d', 'zone-d', agentToken, url);
    await waitFor(
      async () => (await api('GET', '/api/v1/agents')).body.items.some((a: { name: string; state: string }) => a.name === 'probe-d' && a.state === 'active'),
      20_000,
      'probe-d active',
    );
    await victim.stop('SIGKILL');
    const stale = await waitFor(
      async () => {
        const d = (await api('GET', '/api/v1/agents')).body.items.find((a: { name: string }) => a.name === 'probe-d');
        return d.state === 'stale' ? d : undefined;
      },
      5000,
      'probe-d stale',
    );
    expect(stale.lastSeenAgoMs).toBeGreaterThan(1000);
  });

  it('keeps an agent running through a dead controller URL and a wrong token', async () => {
    const deadPort = await freePort();
    const survivor = startAgent('probe-e', 'zone-e', agentToken, `http://127.0.0.1:${deadPort},${url}`);
    await waitFor(
      async () => (await api('GET', '/api/v1/agents')).body.items.some((a: { name: string }) => a.name === 'probe-e'),
      20_000,
      'probe-e registered via the live controller',
    );
    const wrong = startAgent('probe-f', 'zone-f', 'vgl_AAAAAAAAAAAA_' + 'B'.repeat(43), url);
    await waitFor(async () => /answered 401/.test(wrong.output()), 10_000, 'probe-f to log the 401');
    expect(wrong.child.exitCode).toBeNull();
    expect(survivor.child.exitCode).toBeNull();
    expect((await api('GET', '/api/v1/agents')).body.items.some((a: { name: string }) => a.name === 'probe-f')).toBe(false);
  });
});
