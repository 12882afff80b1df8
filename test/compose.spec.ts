import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * `docker-compose.yml` is checked with Debian's docker-compose (`config -q` validates the file against
 * the Compose schema and resolves anchors, variables and `depends_on`; no engine is needed).
 */
function composeConfig(file: string, ...args: string[]) {
  const env = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith('VIGIL_AGENT_TOKEN_')) delete env[key];
  return spawnSync('docker-compose', ['-f', file, 'config', ...args], { encoding: 'utf8', env });
}

describe('docker-compose.yml', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-compose-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is valid (`docker-compose config -q`) and names every service the quick start describes', () => {
    const check = composeConfig('docker-compose.yml', '-q');
    expect(check.error).toBeUndefined();
    expect(check.stderr.trim()).toBe('');
    expect(check.status).toBe(0);

    const services = composeConfig('docker-compose.yml', '--services');
    expect(services.status).toBe(0);
    const names = services.stdout.trim().split('\n').sort();
    expect(names).toEqual(expect.arrayContaining(['postgres', 'controller-1', 'controller-2', 'agent-a', 'agent-b', 'agent-c']));
  });

  it('the check fails on a broken file (an unknown condition in depends_on)', () => {
    const broken = readFileSync('docker-compose.yml', 'utf8').replace('condition: service_healthy', 'condition: when_it_feels_like_it');
    expect(broken).toContain('when_it_feels_like_it');
    const file = join(dir, 'docker-compose.yml');
    writeFileSync(file, broken);
    const check = composeConfig(file, '-q');
    expect(check.status).not.toBe(0);
    expect(check.stderr).toMatch(/condition/);
  });
});
