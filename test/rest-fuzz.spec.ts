import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, startRedis } from '../libs/testing/src/index.js';
import { ADMIN_TOKEN, type Api, freshDatabase, startTestController, type TestController } from './support/controller.js';

interface Operation {
  method: string;
  path: string;
  params: { name: string; in: string }[];
  body: boolean;
  schema: Record<string, unknown> | undefined;
}

const doc = JSON.parse(readFileSync('openapi.json', 'utf8')) as {
  paths: Record<
    string,
    Record<string, { parameters?: { name: string; in: string }[]; requestBody?: { content: Record<string, { schema: { $ref?: string } }> } }>
  >;
  components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
};

/** Streams and blocking watches are left out: they answer by design only much later. */
const SKIP = new Set(['GET /api/v1/events/stream']);
const RUNS = 40;
/**
 * Events the controller writes on its own while a request runs, whatever it answers: role discovery's, and
 * detection's verdicts on clusters earlier cases created (no agent reports here, so they cannot decide).
 */
const BACKGROUND = new Set(['cluster.roles_discovered', 'cluster.can_decide', 'cluster.cannot_decide', 'detection.state']);

const operations: Operation[] = Object.entries(doc.paths).flatMap(([path, methods]) =>
  Object.entries(methods)
    .map(([method, o]) => {
      const ref = o.requestBody?.content['application/json']?.schema.$ref;
      return {
        method: method.toUpperCase(),
        path,
        params: (o.parameters ?? []).filter((p) => p.in === 'path' || p.in === 'query'),
        body: o.requestBody !== undefined,
        schema: ref ? doc.components.schemas[ref.split('/').pop()!] : undefined,
      };
    })
    .filter((o) => !SKIP.has(`${o.method} ${o.path}`)),
);

/** Words that reach deeper than random text: existing names, ids, edge cases. */
const word = (known: string[]) =>
  fc.oneof(
    fc.constantFrom(...known, '', '..', '%2e%2e', '%00', 'a'.repeat(300), '-1', '0', '1e309', 'null', '😀', '00000000-0000-0000-0000-000000000000'),
    fc.string({ maxLength: 40 }),
  );

/** A body shaped like the schema (its fields present, values anything) or anything at all. */
function body(schema: Operation['schema']): fc.Arbitrary<{ raw: string } | { json: unknown }> {
  const fields = Object.keys(schema?.properties ?? {});
  const shaped = fc.dictionary(fc.constantFrom(...(fields.length ? fields : ['x'])), fc.jsonValue({ maxDepth: 4 }), { maxKeys: fields.length + 2 });
  return fc.oneof(
    shaped.map((json) => ({ json })),
    fc.jsonValue({ maxDepth: 5 }).map((json) => ({ json })),
    fc
      .oneof(fc.string({ maxLength: 200 }), fc.constantFrom('{', '{"a":', '[1,2', '\u0000', '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{"x":1}}}'))
      .map((raw) => ({ raw })),
  );
}

/**
 * Every REST route of `openapi.json`, driven with generated path and query parameters and bodies:
 * never a 5xx, and a refused change leaves no trace (every change the API makes writes an event).
 */
describe('REST fuzzing from the OpenAPI document', () => {
  let controller: TestController;
  let api: Api;
  let redis: RedisServer;
  let agentToken: string;
  const known: string[] = ['fz'];

  beforeAll(async () => {
    controller = await startTestController(await freshDatabase());
    api = controller.api;
    redis = await startRedis();
    const cluster = await api('POST', '/api/v1/clusters', {
      body: { name: 'fz', quorum: 1, downAfterMs: 1000, nodes: [{ host: redis.host, port: redis.port }] },
    });
    expect(cluster.status).toBe(201);
    known.push(cluster.body.nodes[0].id);
    agentToken = (await api('POST', '/api/v1/tokens', { body: { name: 'fz-agent', role: 'agent' } })).body.token;
    expect((await api('POST', '/api/v1/agents/register', { token: agentToken, body: { name: 'fz-agent', zone: 'a', version: '1' } })).status).toBeLessThan(300);
    known.push('fz-agent');
  });

  afterAll(async () => {
    await controller?.close();
    await redis?.stop();
  });

  it('answers every generated request below 500, and refused changes write nothing', async () => {
    let cases = 0;
    const statuses = new Map<number, number>();
    const traces: string[] = [];
    for (const op of operations) {
      const agentRoute = /^\/api\/v1\/agents\/(register|\{name\}\/(heartbeat|assignment|reports))$/.test(op.path);
      const params = fc.record(Object.fromEntries(op.params.map((p) => [p.name, fc.option(word(known), { nil: undefined })])));
      await fc.assert(
        fc.asyncProperty(params, op.body ? body(op.schema) : fc.constant(undefined), async (values, payload) => {
          let path = op.path;
          const query = new URLSearchParams();
          for (const p of op.params) {
            const v = (values as Record<string, string | undefined>)[p.name];
            if (p.in === 'path') path = path.replace(`{${p.name}}`, encodeURIComponent(v ?? 'fz'));
            // A watch blocks until its timeout by design: not fuzzed.
            else if (v !== undefined && p.name !== 'waitEpochAfter' && p.name !== 'timeoutMs') query.set(p.name, v);
          }
          const url = `${path}${query.size ? `?${query}` : ''}`;
          const mutating = op.method !== 'GET';
          const before = mutating ? await lastEventId() : undefined;
          const res = await api(op.method, url, {
            token: agentRoute ? agentToken : ADMIN_TOKEN,
            ...(payload === undefined ? {} : 'raw' in payload ? { raw: payload.raw } : { body: payload.json }),
          });
          cases++;
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          expect(res.status, `${op.method} ${url} → ${res.text.slice(0, 300)}`).toBeLessThan(500);
          if (mutating && res.status >= 400) {
            const after = (await api('GET', `/api/v1/events?after=${before}&limit=500`)).body.items as { type: string }[];
            const written = after.filter(
              (e) => e.type !== 'operator.refused' && !e.type.startsWith('agent.') && !e.type.startsWith('node.') && !BACKGROUND.has(e.type),
            );
            if (written.length > 0) traces.push(`${op.method} ${url} answered ${res.status} but wrote ${written.map((e) => e.type).join(', ')}`);
          }
        }),
        { numRuns: RUNS },
      );
    }
    console.log(`REST fuzzing: ${cases} requests over ${operations.length} operations; statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
    expect(traces).toEqual([]);
    expect((await fetch(`${controller.url}/health/ready`)).status).toBe(200);
  }, 600_000);

  async function lastEventId(): Promise<string> {
    let after = '0';
    for (;;) {
      const page = (await api('GET', `/api/v1/events?after=${after}&limit=500`)).body;
      if (page.items.length === 0) return after;
      after = page.items[page.items.length - 1].id;
      if (!page.next) return after;
    }
  }
});
