import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyId, SecretBox } from '../apps/controller/src/topology/secret-box.js';
import { type RedisServer, startRedis } from '../libs/testing/src/index.js';
import { freshDatabase, SECRET_KEY, startTestController } from './support/controller.js';

const run = promisify(execFile);
const NEW_KEY = 'b'.repeat(64);

/** VIGIL_SECRET_KEY rotation: old keys still open, `npm run secrets:reseal` moves everything to the new one. */
describe('secret key rotation', () => {
  let db: string;
  let redis: RedisServer;

  beforeAll(async () => {
    db = await freshDatabase();
    redis = await startRedis({ password: 'redis-pass-1' });
  });

  afterAll(() => redis?.stop());

  async function sealed(): Promise<string[]> {
    const client = new pg.Client({ connectionString: db });
    await client.connect();
    try {
      const clusters = await client.query<{ v: string }>(`SELECT redis_password_sealed AS v FROM clusters WHERE redis_password_sealed IS NOT NULL`);
      const hooks = await client.query<{ v: string }>(`SELECT secret_sealed AS v FROM webhooks`);
      return [...clusters.rows, ...hooks.rows].map((r) => r.v);
    } finally {
      await client.end();
    }
  }

  /** The Redis password as the controller hands it to an agent (it has to open the sealed value). */
  async function passwordGivenToAgents(env: Record<string, string>): Promise<string | undefined> {
    const ctl = await startTestController(db, { MIGRATIONS_RUN: 'false', ...env });
    try {
      const token = (await ctl.api('POST', '/api/v1/tokens', { body: { name: `probe-${Date.now()}`, role: 'agent' } })).body.token;
      const name = `probe-${Date.now()}`;
      expect((await ctl.api('POST', '/api/v1/agents/register', { token, body: { name, zone: 'z', version: '1' } })).status).toBeLessThan(300);
      const assignment = (await ctl.api('GET', `/api/v1/agents/${name}/assignment`, { token })).body;
      return assignment.clusters[0]?.redis?.password;
    } finally {
      await ctl.close();
    }
  }

  it('re-seals every stored secret under the new key, after which the old key is not needed', async () => {
    const first = await startTestController(db);
    try {
      const created = await first.api('POST', '/api/v1/clusters', {
        body: { name: 'vault', quorum: 1, downAfterMs: 1000, nodes: [{ host: redis.host, port: redis.port }], redis: { password: 'redis-pass-1' } },
      });
      expect(created.status, created.text).toBe(201);
      expect((await first.api('POST', '/api/v1/webhooks', { body: { url: 'https://hooks.example.com/x', secret: 'webhook-secret-0123456789' } })).status).toBe(
        201,
      );
    } finally {
      await first.close();
    }
    const before = await sealed();
    expect(before).toHaveLength(2);
    const oldBox = new SecretBox(Buffer.from(SECRET_KEY, 'hex'));
    expect(before.every((v) => oldBox.isCurrent(v))).toBe(true);

    // Rotated, before re-sealing: the new key with the old one listed still reads everything.
    expect(await passwordGivenToAgents({ VIGIL_SECRET_KEY: NEW_KEY, VIGIL_SECRET_KEYS_OLD: SECRET_KEY })).toBe('redis-pass-1');

    const env = { ...process.env, DATABASE_URL: db, VIGIL_SECRET_KEY: NEW_KEY, VIGIL_SECRET_KEYS_OLD: SECRET_KEY };
    // Without the old key nothing can be opened: the command refuses and changes nothing.
    await expect(run('node', ['dist/apps/controller/src/database/reseal.js'], { env: { ...env, VIGIL_SECRET_KEYS_OLD: '' } })).rejects.toThrow(
      /re-seal failed, nothing changed/,
    );
    expect(await sealed()).toEqual(before);

    const { stdout } = await run('node', ['dist/apps/controller/src/database/reseal.js'], { env });
    expect(stdout).toContain('clusters.redis_password_sealed: 1 re-sealed');
    expect(stdout).toContain('webhooks.secret_sealed: 1 re-sealed');
    const after = await sealed();
    expect(after.every((v) => v.startsWith(`v2.${keyId(Buffer.from(NEW_KEY, 'hex'))}.`))).toBe(true);
    const newBox = new SecretBox(Buffer.from(NEW_KEY, 'hex'));
    expect(after.map((v) => newBox.open(v)).sort()).toEqual(['redis-pass-1', 'webhook-secret-0123456789']);
    // Idempotent: a second run has nothing to do.
    expect((await run('node', ['dist/apps/controller/src/database/reseal.js'], { env })).stdout).toContain('0 re-sealed, 1 already under key');

    // The old key can go.
    expect(await passwordGivenToAgents({ VIGIL_SECRET_KEY: NEW_KEY })).toBe('redis-pass-1');
  });

  it('a replica that cannot open one sealed value still loads the topology, counts it, and hands agents no password for it', async () => {
    // Everything is sealed under NEW_KEY now; a replica still configured with only the old key opens nothing.
    const ctl = await startTestController(db, { MIGRATIONS_RUN: 'false', VIGIL_SECRET_KEY: SECRET_KEY });
    try {
      const listed = await ctl.api('GET', '/api/v1/clusters/vault');
      expect(listed.status, listed.text).toBe(200);
      const master = await ctl.api('GET', '/api/v1/clusters/vault/master');
      expect(master.status, master.text).toBe(200);
      expect(master.body.port).toBe(redis.port);
      const metrics = await fetch(`${ctl.url}/metrics`).then((r) => r.text());
      expect(metrics).toMatch(/^vigil_secrets_unreadable\{[^}]*\} 1$/m);
    } finally {
      await ctl.close();
    }
    expect(await passwordGivenToAgents({ VIGIL_SECRET_KEY: SECRET_KEY })).toBeUndefined();
  });
});
