import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TopologyCache } from '../apps/controller/src/topology/topology-cache.service.js';
import { waitFor } from '../libs/testing/src/index.js';
import { freshDatabase, startTestController, type TestController } from './support/controller.js';

async function reloads(ctl: TestController): Promise<{ full: number; partial: number }> {
  const text = await fetch(`${ctl.url}/metrics`).then((r) => r.text());
  const count = (kind: string) => Number(new RegExp(`^vigil_topology_reloads_total\\{[^}]*kind="${kind}"[^}]*\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
  return { full: count('full'), partial: count('partial') };
}

/**
 * A change names its cluster in `NOTIFY vigil_topology`, and each replica reloads that cluster alone:
 * the other replica sees every kind of write (create, settings, nodes, delete, a write from outside the
 * API) without a full reload, and its untouched clusters stay the same objects.
 */
describe('incremental topology reloads across replicas', () => {
  let db: string;
  let a: TestController;
  let b: TestController;

  beforeAll(async () => {
    db = await freshDatabase();
    a = await startTestController(db, { CONTROLLER_NAME: 'a' });
    b = await startTestController(db, { CONTROLLER_NAME: 'b', MIGRATIONS_RUN: 'false' });
  });

  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('the other replica follows creates, updates, node changes, deletes and raw SQL by partial reloads only', async () => {
    // Unreachable nodes (TEST-NET): discovery leaves them unknown, which is fine here.
    const body = (name: string, octet: number) => ({ name, quorum: 1, downAfterMs: 1000, nodes: [{ host: `192.0.2.${octet}`, port: 6379 }] });
    expect((await a.api('POST', '/api/v1/clusters', { body: body('keep', 1) })).status).toBe(201);
    const seen = () => b.app.get(TopologyCache).snapshot.clustersByName;
    await waitFor(async () => seen().has('keep'), 5000, 'replica b sees cluster keep');
    const kept = seen().get('keep');
    const before = await reloads(b);

    expect((await a.api('POST', '/api/v1/clusters', { body: body('moving', 2) })).status).toBe(201);
    await waitFor(async () => seen().has('moving'), 5000, 'b sees the new cluster');
    expect((await a.api('PATCH', '/api/v1/clusters/moving', { body: { quorum: 2, dnsNames: ['moving.example.'] } })).status).toBe(200);
    await waitFor(async () => seen().get('moving')?.quorum === 2, 5000, 'b sees the new quorum');
    expect(seen().get('moving')!.dnsNames).toEqual(['moving.example.']);

    const added = await a.api('POST', '/api/v1/clusters/moving/nodes', { body: { host: '192.0.2.3', port: 6380 } });
    expect(added.status, added.text).toBe(201);
    await waitFor(async () => seen().get('moving')?.nodes.length === 2, 5000, 'b sees the added node');
    expect((await a.api('DELETE', `/api/v1/clusters/moving/nodes/${added.body.id}`)).status).toBe(204);
    await waitFor(async () => seen().get('moving')?.nodes.length === 1, 5000, 'b sees the node removed');

    // A write that does not come through the API (an operator's SQL, another release) is followed too.
    const client = new pg.Client({ connectionString: db });
    await client.connect();
    try {
      await client.query(`UPDATE clusters SET cooldown_ms = 1234 WHERE name = 'moving'`);
    } finally {
      await client.end();
    }
    await waitFor(async () => seen().get('moving')?.cooldownMs === 1234, 5000, 'b sees the SQL change');

    expect((await a.api('DELETE', '/api/v1/clusters/moving')).status).toBe(204);
    await waitFor(async () => !seen().has('moving'), 5000, 'b drops the deleted cluster');

    const after = await reloads(b);
    expect(after.partial - before.partial).toBeGreaterThanOrEqual(6);
    // The 10 s safety reload may fall inside the window once; the changes above did not cause full loads.
    expect(after.full - before.full).toBeLessThanOrEqual(1);
    if (after.full === before.full) expect(seen().get('keep')).toBe(kept);
    expect([...seen().keys()]).toEqual(['keep']);
  });
});
