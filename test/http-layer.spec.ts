import { request } from 'node:http';
import { brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findConsoleDir } from '../apps/controller/src/console/console-static.js';
import { ADMIN_TOKEN, freshDatabase, startTestController, type TestController } from './support/controller.js';

interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** One request with node:http, the body as sent on the wire (fetch would decode it). */
function raw(url: string, headers: Record<string, string>, method = 'GET', payload?: string): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** The Fastify HTTP layer: compression, request ids, framework refusals in the API's error shape. */
describe('HTTP layer', () => {
  let ctl: TestController;

  beforeAll(async () => {
    ctl = await startTestController(await freshDatabase());
    // Enough clusters for an overview well above the compression threshold.
    for (let i = 0; i < 12; i++) {
      const res = await ctl.api('POST', '/api/v1/clusters', {
        body: { name: `c${i}`, quorum: 1, downAfterMs: 1000, nodes: [{ host: `10.9.${i}.1`, port: 6379 }] },
      });
      expect(res.status).toBe(201);
    }
  });

  afterAll(() => ctl?.close());

  it('compresses a large JSON answer for a client that accepts gzip or br, and it decodes to the same JSON', async () => {
    const plain = await raw(`${ctl.url}/api/v1/overview`, {});
    expect(plain.status).toBe(200);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.length).toBeGreaterThan(2048);
    const expected = JSON.parse(plain.body.toString('utf8')) as { items: unknown[] };
    expect(expected.items).toHaveLength(12);

    const gzipped = await raw(`${ctl.url}/api/v1/overview`, { 'accept-encoding': 'gzip' });
    expect(gzipped.status).toBe(200);
    expect(gzipped.headers['content-encoding']).toBe('gzip');
    expect(gzipped.headers['vary']).toMatch(/accept-encoding/i);
    expect(gzipped.headers['content-type']).toMatch(/^application\/json/);
    expect(gzipped.body.length).toBeLessThan(plain.body.length);
    const unzipped = JSON.parse(gunzipSync(gzipped.body).toString('utf8')) as object;
    expect(withoutClock(unzipped)).toEqual(withoutClock(expected));

    const brotli = await raw(`${ctl.url}/api/v1/overview`, { 'accept-encoding': 'br, gzip' });
    expect(brotli.headers['content-encoding']).toBe('br');
    expect(withoutClock(JSON.parse(brotliDecompressSync(brotli.body).toString('utf8')))).toEqual(withoutClock(expected));
  });

  it('leaves small answers and the event stream uncompressed', async () => {
    const small = await raw(`${ctl.url}/api/v1/whoami`, { 'accept-encoding': 'gzip, br' });
    expect(small.status).toBe(200);
    expect(small.headers['content-encoding']).toBeUndefined();
    expect(JSON.parse(small.body.toString('utf8'))).toMatchObject({ role: 'admin' });

    const stream = await new Promise<{ status: number; headers: Record<string, unknown>; first: string }>((resolve, reject) => {
      const req = request(
        `${ctl.url}/api/v1/events/stream?lastEventId=0`,
        { headers: { authorization: `Bearer ${ADMIN_TOKEN}`, accept: 'text/event-stream', 'accept-encoding': 'gzip, br' } },
        (res) => {
          res.once('data', (chunk: Buffer) => {
            resolve({ status: res.statusCode ?? 0, headers: res.headers, first: chunk.toString('utf8') });
            req.destroy();
          });
          res.on('error', () => undefined);
        },
      );
      req.on('error', () => undefined);
      setTimeout(() => reject(new Error('no event from the stream')), 10_000).unref();
      req.end();
    });
    expect(stream.status).toBe(200);
    expect(stream.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(stream.headers['content-encoding']).toBeUndefined();
    expect(stream.headers['x-request-id']).toEqual(expect.any(String));
    // The replay's first frame, readable as it is: not a compressed stream.
    expect(stream.first).toMatch(/^(id|event|data|:)/m);
  });

  it('echoes a valid X-Request-Id, makes one up otherwise, and sends no X-Powered-By', async () => {
    const given = await raw(`${ctl.url}/health/live`, { 'x-request-id': 'trace-1.a_b' });
    expect(given.headers['x-request-id']).toBe('trace-1.a_b');
    expect(given.headers['x-powered-by']).toBeUndefined();
    const invalid = await raw(`${ctl.url}/api/v1/whoami`, { 'x-request-id': 'bad id with spaces' });
    expect(invalid.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const refused = await raw(`${ctl.url}/api/v1/nowhere`, {});
    expect(refused.status).toBe(404);
    expect(refused.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers malformed JSON with 400 and a body too large with 413, in the error shape, naming the body', async () => {
    const json = { 'content-type': 'application/json' };
    const bad = await raw(`${ctl.url}/api/v1/clusters`, json, 'POST', '{"name": ');
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body.toString('utf8'))).toMatchObject({
      statusCode: 400,
      error: 'validation_failed',
      details: [{ field: 'body', reason: expect.stringMatching(/^is not valid JSON/) }],
    });
    const scalar = await raw(`${ctl.url}/api/v1/clusters`, json, 'POST', '"x"');
    expect(JSON.parse(scalar.body.toString('utf8'))).toMatchObject({ statusCode: 400, details: [{ field: 'body', reason: 'must be a JSON object or array' }] });

    const big = await raw(`${ctl.url}/api/v1/clusters`, json, 'POST', JSON.stringify({ name: 'x'.repeat(ctl.config.bodyLimitBytes) }));
    expect(big.status).toBe(413);
    expect(JSON.parse(big.body.toString('utf8'))).toEqual({
      statusCode: 413,
      error: 'payload_too_large',
      message: `request body must not be larger than ${ctl.config.bodyLimitBytes} bytes`,
      details: [{ field: 'body', reason: `must not be larger than ${ctl.config.bodyLimitBytes} bytes` }],
    });
  });

  it('refuses a body it cannot decompress, or an unknown Content-Encoding, with 400 naming it, and reads a JSON body after a byte order mark', async () => {
    const unknown = await raw(`${ctl.url}/health/live`, { 'content-encoding': 'foo' });
    expect(unknown.status).toBe(400);
    expect(JSON.parse(unknown.body.toString('utf8'))).toMatchObject({ error: 'validation_failed', details: [{ field: 'Content-Encoding' }] });
    const json = { 'content-type': 'application/json' };
    const notGzip = await raw(`${ctl.url}/api/v1/tokens`, { ...json, 'content-encoding': 'gzip' }, 'POST', '{"name":"x","role":"viewer"}');
    expect(notGzip.status).toBe(400);
    expect(JSON.parse(notGzip.body.toString('utf8'))).toMatchObject({ error: 'validation_failed', details: [{ field: 'body' }] });
    const gzipped = await new Promise<RawAnswer>((resolve, reject) => {
      const req = request(
        `${ctl.url}/api/v1/tokens`,
        { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...json, 'content-encoding': 'gzip' } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        },
      );
      req.on('error', reject);
      req.end(gzipSync('{"name":"gzipped-token","role":"viewer"}'));
    });
    expect(gzipped.status, gzipped.body.toString('utf8')).toBe(201);
    const bom = await raw(`${ctl.url}/api/v1/tokens`, json, 'POST', '\uFEFF{"name":"bom-token","role":"viewer"}');
    expect(bom.status, bom.body.toString('utf8')).toBe(201);
  });

  it.skipIf(findConsoleDir(undefined) === undefined)('serves the console at /, /index.html and /assets/* only, with its CSP and caching headers', async () => {
    for (const path of ['/', '/index.html']) {
      const page = await raw(`${ctl.url}${path}`, {});
      expect(page.status, path).toBe(200);
      expect(page.headers['content-type']).toMatch(/^text\/html/);
      expect(page.headers['content-security-policy']).toMatch(/^default-src 'self';.*frame-ancestors 'none'/);
      expect(page.headers['cache-control']).toBe('no-cache');
      expect(page.headers['referrer-policy']).toBe('no-referrer');
      expect(page.headers['x-content-type-options']).toBe('nosniff');
    }
    const html = (await raw(`${ctl.url}/`, {})).body.toString('utf8');
    const asset = /src="\.?(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(asset).toBeDefined();
    const script = await raw(`${ctl.url}${asset}`, { 'accept-encoding': 'gzip' });
    expect(script.status).toBe(200);
    expect(script.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(script.headers['x-content-type-options']).toBe('nosniff');
    expect(script.headers['content-security-policy']).toBeUndefined();
    const missing = await raw(`${ctl.url}/assets/nothing-here.js`, {});
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body.toString('utf8'))).toMatchObject({ error: 'not_found' });
    expect((await raw(`${ctl.url}/package.json`, {})).status).toBe(404);
    expect((await raw(`${ctl.url}/`, { 'content-type': 'application/json' }, 'POST', '{}')).status).toBe(404);
  });

  it('reads agent reports up to their own, larger limit and does not walk them for depth', async () => {
    const json = { 'content-type': 'application/json' };
    const twoMb = JSON.stringify({ seq: 1, pad: 'x'.repeat(2 * 1_048_576) });
    expect(ctl.config.agentReportLimitBytes).toBeGreaterThan(twoMb.length);
    // Read whole, then refused by the guard (an admin token is not an agent's): not 413.
    expect((await raw(`${ctl.url}/api/v1/agents/a1/reports`, json, 'POST', twoMb)).status).toBe(403);
    expect((await raw(`${ctl.url}/api/v1/agents/a1/reports/`, json, 'POST', twoMb)).status).toBe(403);
    expect((await raw(`${ctl.url}/api/v1/agents/register`, json, 'POST', twoMb)).status).toBe(413);
    const deep = '['.repeat(100) + ']'.repeat(100);
    expect((await raw(`${ctl.url}/api/v1/agents/a1/reports`, json, 'POST', deep)).status).toBe(403);
    expect((await raw(`${ctl.url}/api/v1/agents/register`, json, 'POST', deep)).status).toBe(400);
  });

  it('serves routes with a trailing slash as Express did', async () => {
    expect((await ctl.api('GET', '/api/v1/clusters/')).status).toBe(200);
    const badUrl = await raw(`${ctl.url}/api/v1/clusters/%E0%A4%A`, {});
    expect(badUrl.status).toBe(400);
    expect(JSON.parse(badUrl.body.toString('utf8'))).toMatchObject({ error: 'validation_failed', details: [{ field: 'path' }] });
  });
});

/** The overview carries the time it was built (`generatedAt`): the rest must be equal. */
function withoutClock(overview: object): object {
  return Object.fromEntries(Object.entries(overview).filter(([k]) => k !== 'generatedAt'));
}
