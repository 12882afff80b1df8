import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../migrations/index.js';
import { freshDatabase, startTestController } from './support/controller.js';

const run = promisify(execFile);

/**
 * `test/fixtures/release-61af498.sql` is a dump of a database written by the previous release
 * (commit 61af498): a cluster with a sealed Redis password (the v1 format), maintenance, viewer and
 * agent tokens, a webhook created and deleted, their events. This release must start on it, apply its
 * migrations, and keep every record working.
 */
describe('upgrade from the previous release', () => {
  const VIEWER = 'vgl_ZzK6Ouo2z7an_i7yG7eYaRGOzF7W5M5IkEFcGmsx1_sLzIuY-FKrF6kg';
  const AGENT = 'vgl_rygKKwsGAgSB_QE8iqyY7TBPXZpIBf4VoegqHa-ziC9EJA5DWABzugAg';

  it('migrates a database the previous release wrote and serves its clusters, tokens, secrets and history', async () => {
    const db = await freshDatabase();
    await run('psql', [db, '-v', 'ON_ERROR_STOP=1', '-q', '-f', 'test/fixtures/release-61af498.sql']);
    const ctl = await startTestController(db);
    try {
      const client = new pg.Client({ connectionString: db });
      await client.connect();
      const applied = (await client.query<{ name: string }>(`SELECT name FROM typeorm_migrations ORDER BY id`)).rows.map((r) => r.name);
      await client.end();
      expect(applied).toEqual(MIGRATIONS.map((m) => new m().name));

      const cluster = (await ctl.api('GET', '/api/v1/clusters/legacy')).body;
      expect(cluster).toMatchObject({ name: 'legacy', epoch: 0, maintenanceUntil: '2030-01-01T00:00:00.000Z', redis: { passwordSet: true } });
      expect((await ctl.api('GET', '/api/v1/whoami', { token: VIEWER })).body).toMatchObject({ name: 'legacy-viewer', role: 'viewer' });
      const tokens = (await ctl.api('GET', '/api/v1/tokens')).body.items;
      expect(tokens.find((t: { name: string }) => t.name === 'legacy-viewer')).toMatchObject({ expiresAt: null, revokedAt: null });

      // The Redis password sealed by the previous release is opened and handed to an agent.
      expect((await ctl.api('POST', '/api/v1/agents/register', { token: AGENT, body: { name: 'upgraded', zone: 'a', version: '1' } })).status).toBeLessThan(
        300,
      );
      const assignment = (await ctl.api('GET', '/api/v1/agents/upgraded/assignment', { token: AGENT })).body;
      expect(assignment.clusters[0]).toMatchObject({ name: 'legacy', redis: { password: 'fixture-pass' } });

      const types = (await ctl.api('GET', '/api/v1/events?cluster=legacy')).body.items.map((e: { type: string }) => e.type);
      expect(types).toEqual(expect.arrayContaining(['cluster.created', 'cluster.maintenance_started']));
      expect((await ctl.api('GET', '/api/v1/events?type=webhook.deleted')).body.items).toHaveLength(1);
      expect((await ctl.api('GET', '/api/v1/overview')).body.items.map((c: { name: string }) => c.name)).toEqual(['legacy']);
    } finally {
      await ctl.close();
    }
  });
});
