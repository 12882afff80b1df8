import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, startRedis, waitFor } from '../libs/testing/src/index.js';
import { type Api, freshDatabase, startTestController, type TestController } from './support/controller.js';

const TEN_YEARS_MS = 315_360_000_000;
/** A value written into the JSON text as it is (numbers JSON.stringify cannot write, deep nesting). */
class Raw {
  constructor(readonly text: string) {}
}
const DELETE = Symbol('delete');
const deep = (n: number) => new Raw('['.repeat(n) + ']'.repeat(n));

/** Values each field must refuse (400 naming a field), by path in the report. */
const INVALID: Record<string, unknown[]> = {
  seq: [-1, 1.5, '1', null, true, [], {}, new Raw('1e309'), new Raw('-0.5'), 2 ** 53, 'NaN', DELETE],
  assignment: [1, null, 'x'.repeat(65), {}, [], DELETE],
  intervalMs: [9, 60_001, 10.5, '100', -1, 0, null, new Raw('1e400'), DELETE],
  lagMs: [-1, '5', 1e20, null, {}, 'Infinity'],
  nodes: ['x', {}, null, 1, [1], [null], [[]], [{}], deep(10_000), new Raw(`[${'0,'.repeat(100_000)}0]`), DELETE],
  'nodes.0.id': ['not-a-uuid', 5, null, '', 'ffffffff-ffff-ffff-ffff-fffffffffffff', DELETE],
  'nodes.0.st': ['OK', '', 'up', 1, null, 'ok ', DELETE],
  'nodes.0.ago': [-1, -0.001, 'NaN', 'Infinity', new Raw('1e309'), new Raw('-1e309'), TEN_YEARS_MS + 1, null, '0', DELETE],
  'nodes.0.lat': [-5, 3_600_001, '1', {}, null],
  'nodes.0.err': ['x'.repeat(501), 5, {}, [], null],
  'nodes.0.repl': ['x', 1, [], null, deep(100_000)],
  'nodes.0.repl.role': ['slave', '', 1, 'MASTER', DELETE],
  'nodes.0.repl.offset': [-1, 'NaN', new Raw('1e309'), 2 ** 54, null, DELETE],
  'nodes.0.repl.ageMs': [-1, '0', TEN_YEARS_MS + 1, DELETE],
  'nodes.0.repl.runId': ['r'.repeat(65), 1, {}],
  'nodes.0.repl.masterHost': ['h'.repeat(254), 1],
  'nodes.0.repl.masterPort': [70_000, -1, 1.5, '6379'],
  'nodes.0.repl.linkUp': ['yes', 1, null],
  'nodes.0.repl.replicas': [1.5, -1, 1_000_001],
  'nodes.0.repl.linkDownSinceS': [-2, 'x'],
};
/** Keys no level knows: prototype names and plain unknown fields. */
const UNKNOWN_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'zz', 'SEQ', ''];
const MALFORMED = ['{', '{"seq":', '[1,2', '\u0000', 'NaN', '{"seq":1,}', "{'seq':1}", '{"seq":1}{"seq":2}', `${'['.repeat(200_000)}`, 'null', '[]', '""', '1'];

/**
 * Agent reports, valid in shape with hostile values, malformed, huge or deep: never a 5xx; a refused
 * report changes nothing (the cluster's health — every verdict, vote and the agent's view — is the one
 * the agent's last valid report made, and no event is written); an accepted report is what was sent.
 */
describe('agent report fuzzing', () => {
  let controller: TestController;
  let api: Api;
  let redis: RedisServer;
  let token: string;
  let nodeId: string;
  let seq = 1;

  const report = (): Record<string, unknown> => ({
    seq: seq++,
    assignment: 'a',
    intervalMs: 60_000,
    lagMs: 0,
    nodes: [{ id: nodeId, st: 'ok', ago: 0, lat: 1.25, repl: { role: 'master', runId: 'r'.repeat(40), offset: 42, ageMs: 0 } }],
  });

  function post(body: { json: unknown } | { raw: string }, headers?: Record<string, string>) {
    return api('POST', '/api/v1/agents/fz-agent/reports', {
      token,
      ...('raw' in body ? { raw: body.raw } : { body: body.json }),
      ...(headers ? { headers } : {}),
    });
  }

  /** The cluster's health with what moves with the clock left out (reply ages). */
  async function health(): Promise<unknown> {
    const h = (await api('GET', '/api/v1/clusters/fz/health')).body as { nodes: { agents: Record<string, unknown>[] }[] };
    return { ...h, nodes: h.nodes.map((n) => ({ ...n, agents: n.agents.map(({ noReplyMs: _, ...a }) => a) })) };
  }

  async function lastEventId(): Promise<string> {
    return ((await api('GET', '/api/v1/events?limit=500')).body.items as { id: string }[]).at(-1)?.id ?? '0';
  }

  beforeAll(async () => {
    // Agents are stale after 10 minutes here, so the state a refused report must leave alone does not age during the run.
    controller = await startTestController(await freshDatabase(), { AGENT_STALE_AFTER_MS: '600000' });
    api = controller.api;
    redis = await startRedis();
    const created = await api('POST', '/api/v1/clusters', {
      body: { name: 'fz', quorum: 1, downAfterMs: 1000, nodes: [{ host: redis.host, port: redis.port }] },
    });
    expect(created.status).toBe(201);
    nodeId = created.body.nodes[0].id;
    token = (await api('POST', '/api/v1/tokens', { body: { name: 'fz-agent', role: 'agent' } })).body.token;
    expect((await api('POST', '/api/v1/agents/register', { token, body: { name: 'fz-agent', zone: 'a', version: '1' } })).status).toBeLessThan(300);
    await waitFor(async () => (await api('GET', '/api/v1/clusters/fz/master')).status === 200, 10_000, 'the master of fz');
  });

  afterAll(async () => {
    await controller?.close();
    await redis?.stop();
  });

  /** Sends a valid report and waits until health shows it (and settles): the state refused reports must leave alone. */
  async function baseline(): Promise<unknown> {
    expect((await post({ json: report() })).status).toBe(200);
    await waitFor(async () => JSON.stringify(await health()).includes('"latencyMs":1.25'), 5000, 'the baseline report in health');
    return health();
  }

  function serialize(body: unknown): string {
    const raws: string[] = [];
    const text = JSON.stringify(body, (_, v: unknown) => (v instanceof Raw ? `\u0000RAW${raws.push(v.text) - 1}\u0000` : v));
    return text.replace(/"\\u0000RAW(\d+)\\u0000"/g, (_, i: string) => raws[Number(i)]!);
  }

  /** A valid report with one hostile change: a field given a refused value or removed, an unknown key added, or a duplicated node. */
  const mutation = fc.oneof(
    {
      weight: 6,
      arbitrary: fc.constantFrom(...Object.entries(INVALID).flatMap(([path, values]) => values.map((value) => ({ kind: 'set' as const, path, value })))),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('key' as const),
        path: fc.constantFrom('', 'nodes.0', 'nodes.0.repl'),
        key: fc.oneof(
          fc.constantFrom(...UNKNOWN_KEYS),
          fc
            .string({ minLength: 1, maxLength: 10 })
            .filter(
              (k) =>
                !/^(seq|assignment|intervalMs|lagMs|nodes|id|st|ago|lat|err|repl|role|runId|offset|masterHost|masterPort|linkUp|linkDownSinceS|lastIoS|replicas|ageMs)$/.test(
                  k,
                ),
            ),
        ),
        value: fc.jsonValue({ maxDepth: 3 }),
      }),
    },
    { weight: 1, arbitrary: fc.constantFrom({ kind: 'unknown-node' as const }, { kind: 'duplicate' as const }, { kind: 'many-duplicates' as const }) },
  );

  type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

  function mutate(m: Mutation): { body: string; what: string } {
    const r = report() as Record<string, any>;
    const node = r['nodes'][0];
    switch (m.kind) {
      case 'set': {
        const parts = m.path.split('.');
        let target: any = r;
        for (const p of parts.slice(0, -1)) target = target[p];
        const last = parts.at(-1)!;
        if (m.value === DELETE) delete target[last];
        else target[last] = m.value;
        return { body: serialize(r), what: `${m.path} = ${m.value === DELETE ? '(removed)' : serialize(m.value).slice(0, 60)}` };
      }
      case 'key': {
        const target = m.path === '' ? r : m.path === 'nodes.0' ? node : node.repl;
        Object.defineProperty(target, m.key, { value: m.value, enumerable: true, writable: true, configurable: true });
        return { body: serialize(r), what: `unknown key ${JSON.stringify(m.key)} at ${m.path || 'top'}` };
      }
      case 'unknown-node':
        r['nodes'].push({ ...node, id: randomUUID() });
        return { body: serialize(r), what: 'an unknown node id' };
      case 'duplicate':
        r['nodes'].push({ ...node });
        return { body: serialize(r), what: 'a node twice' };
      case 'many-duplicates':
        r['nodes'] = Array.from({ length: 20_000 }, () => node);
        return { body: serialize(r), what: '20,000 copies of a node' };
    }
  }

  it('refuses every hostile report with 400 and changes nothing; the last valid report stands', async () => {
    const before = await baseline();
    const fromEvent = await lastEventId();
    const fullReloads = async () =>
      Number(/^vigil_topology_reloads_total\{[^}]*kind="full"[^}]*\} (\d+)/m.exec(await fetch(`${controller.url}/metrics`).then((r) => r.text()))?.[1] ?? NaN);
    const reloadsBefore = await fullReloads();
    const startedAt = Date.now();
    let cases = 0;
    const statuses = new Map<number, number>();
    const count = (s: number) => statuses.set(s, (statuses.get(s) ?? 0) + 1);

    await fc.assert(
      fc.asyncProperty(mutation, async (m) => {
        cases++;
        const { body, what } = mutate(m);
        const res = await post({ raw: body });
        count(res.status);
        expect(res.status, `${what} → ${res.text.slice(0, 300)}`).toBe(400);
        expect(res.body.details?.length, `${what}: names the field`).toBeGreaterThan(0);
        expect(await health(), `${what}: health unchanged`).toEqual(before);
      }),
      { numRuns: 1200 },
    );

    // Malformed JSON, any JSON, a body past the size limit, the wrong content type.
    const other = fc.oneof(
      fc.constantFrom(...MALFORMED).map((raw) => ({ raw })),
      fc.jsonValue({ maxDepth: 5 }).map((json) => ({ json })),
      fc.dictionary(fc.constantFrom('seq', 'assignment', 'intervalMs', 'lagMs', 'nodes'), fc.jsonValue({ maxDepth: 3 })).map((json) => ({ json })),
      fc.string({ maxLength: 100 }).map((raw) => ({ raw })),
    );
    await fc.assert(
      fc.asyncProperty(other, async (b) => {
        cases++;
        const res = await post(b);
        count(res.status);
        expect(res.status, `${JSON.stringify(b).slice(0, 200)} → ${res.text.slice(0, 300)}`).toBe(400);
        expect(await health()).toEqual(before);
      }),
      { numRuns: 300 },
    );
    const tooBig = await post({ raw: `{"seq":1,"assignment":"${'x'.repeat(17 * 1_048_576)}"}` });
    const plain = await post({ raw: serialize(report()) }, { 'content-type': 'text/plain' });
    for (const res of [tooBig, plain]) count(res.status);
    cases += 2;
    expect(tooBig.status).toBe(413);
    expect(plain.status).toBe(400);
    expect(await health()).toEqual(before);
    const written = (await api('GET', `/api/v1/events?after=${fromEvent}&limit=500`)).body.items.map((e: { type: string }) => e.type);
    console.log(`agent-report fuzz: ${cases.toLocaleString('en-US')} refused cases, statuses ${JSON.stringify(Object.fromEntries(statuses))}, 0 failures`);
    expect(written).toEqual([]);
    // Reports naming unknown nodes start a full topology reload at most once a second (plus the 10 s timer).
    const reloads = (await fullReloads()) - reloadsBefore;
    const seconds = (Date.now() - startedAt) / 1000;
    console.log(`agent-report fuzz: ${reloads} full topology reloads in ${seconds.toFixed(1)} s`);
    expect(reloads).toBeLessThanOrEqual(Math.ceil(seconds * 1.1) + 2);
  }, 120_000);

  it('accepts valid reports with values at their limits, and health shows what was sent', async () => {
    await baseline();
    const fromEvent = await lastEventId();
    let cases = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          seq: fc.oneof(fc.constant(Number.MAX_SAFE_INTEGER), fc.nat()),
          assignment: fc.string({ maxLength: 64 }),
          intervalMs: fc.integer({ min: 10, max: 60_000 }),
          lagMs: fc.option(fc.double({ min: 0, max: 50, noNaN: true }), { nil: undefined }),
          lat: fc.oneof(fc.constantFrom(0, 3_600_000), fc.double({ min: 0, max: 3_600_000, noNaN: true })),
          err: fc.option(
            fc.string({ maxLength: 500, unit: 'grapheme' }).filter((s) => s.length <= 500),
            { nil: undefined },
          ),
          offset: fc.oneof(fc.constant(Number.MAX_SAFE_INTEGER), fc.nat()),
          runId: fc.string({ maxLength: 64 }),
          replicas: fc.option(fc.integer({ min: 0, max: 1_000_000 }), { nil: undefined }),
        }),
        async (v) => {
          cases++;
          const body = {
            seq: v.seq,
            assignment: v.assignment,
            intervalMs: v.intervalMs,
            ...(v.lagMs === undefined ? {} : { lagMs: v.lagMs }),
            nodes: [
              {
                id: nodeId,
                st: 'ok',
                ago: 0,
                lat: v.lat,
                ...(v.err === undefined ? {} : { err: v.err }),
                repl: { role: 'master', runId: v.runId, offset: v.offset, ageMs: 0, ...(v.replicas === undefined ? {} : { replicas: v.replicas }) },
              },
            ],
          };
          const res = await post({ json: body });
          expect(res.status, res.text.slice(0, 300)).toBe(200);
          expect(typeof res.body.assignment).toBe('string');
          const h = (await api('GET', '/api/v1/clusters/fz/health')).body;
          const view = h.nodes[0].agents.find((a: { name: string }) => a.name === 'fz-agent');
          // Seen answering: never down (without a vote it may be unknown: this agent ticks too slowly for 1 s).
          expect(['up', 'unknown']).toContain(h.nodes[0].state);
          expect(view).toMatchObject({ status: 'ok', ok: true, latencyMs: v.lat, replication: { role: 'master', offset: v.offset, runId: v.runId } });
        },
      ),
      { numRuns: 300 },
    );
    console.log(`agent-report fuzz: ${cases} accepted cases at the limits, 0 failures`);
    // A node seen up by its agent stays up: nothing to record.
    expect((await api('GET', `/api/v1/events?after=${fromEvent}&limit=500`)).body.items.map((e: { type: string }) => e.type)).toEqual([]);
  }, 60_000);
});
