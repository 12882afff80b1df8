import { readFileSync } from 'node:fs';
import SwaggerParser from '@apidevtools/swagger-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { servedRoutes } from '../apps/controller/src/app.js';
import { freshDatabase, startTestController, type TestController } from './support/controller.js';

type Operation = { security?: unknown[]; responses: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }>; requestBody?: unknown };

describe('OpenAPI document', () => {
  let ctl: TestController;
  let doc: { security: unknown[]; paths: Record<string, Record<string, Operation>>; components: { securitySchemes: Record<string, unknown> } };

  beforeAll(async () => {
    ctl = await startTestController(await freshDatabase());
    doc = (await ctl.api('GET', '/api/openapi.json', { token: null })).body;
  });

  afterAll(async () => ctl?.close());

  it('is served with its UI and validates as OpenAPI 3', async () => {
    const ui = await fetch(`${ctl.url}/api/docs`);
    expect(ui.status).toBe(200);
    expect(await ui.text()).toMatch(/swagger-ui/i);
    await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeTruthy();
  });

  it('covers every API route the controller serves', () => {
    const served = servedRoutes(ctl.app)
      .filter((route) => route.url.startsWith('/api/v1/') && route.method !== 'HEAD')
      .map((route) => `${route.method} ${route.url.replace(/:(\w+)/g, '{$1}')}`);
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    expect(served.length).toBeGreaterThan(10);
    expect(documented.sort()).toEqual([...new Set(served)].sort());
  });

  it('documents the security scheme, every body and every answer with a schema', () => {
    expect(doc.components.securitySchemes['bearer']).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.security).toEqual([{ bearer: [] }]);
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const where = `${method.toUpperCase()} ${path}`;
        expect(op.security, where).toBeUndefined();
        if (['post', 'patch', 'put'].includes(method)) expect(op.requestBody, where).toBeDefined();
        expect(Object.keys(op.responses), where).toEqual(expect.arrayContaining(['401', '500']));
        for (const [status, response] of Object.entries(op.responses)) {
          if (status === '204' || status === '304') continue; // no body by definition
          // JSON everywhere, except the event stream's 200 (errors stay JSON there too).
          const schema = response.content?.['application/json']?.schema ?? (Number(status) < 400 ? response.content?.['text/event-stream']?.schema : undefined);
          expect(schema, `${where} ${status}`).toBeDefined();
          if (Number(status) >= 400) expect(schema?.$ref, `${where} ${status}`).toBe('#/components/schemas/ErrorResponseDto');
        }
      }
    }
  });

  it('matches the committed openapi.json (run `npm run openapi` after changing the API)', () => {
    const committed = JSON.parse(readFileSync(new URL('../openapi.json', import.meta.url), 'utf8'));
    expect(doc).toEqual(committed);
  });
});
