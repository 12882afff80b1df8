import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The console's typed client is generated from the committed `openapi.json` (itself checked against
 * the controller by openapi.spec.ts): a change to the API that is not regenerated fails here.
 */
describe('console API client', () => {
  it('is what openapi-typescript generates from openapi.json (run `npm run console:client`)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-client-'));
    try {
      const out = join(dir, 'schema.d.ts');
      execFileSync(process.execPath, ['node_modules/openapi-typescript/bin/cli.js', 'openapi.json', '-o', out, '--silent'], { stdio: 'pipe' });
      expect(readFileSync('apps/console/src/api/schema.d.ts', 'utf8')).toBe(readFileSync(out, 'utf8'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
