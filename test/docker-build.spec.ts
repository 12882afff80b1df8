import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, posix } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseDockerfile } from '../libs/testing/src/dockerfile.js';
import { freePort, startProcess, waitFor } from '../libs/testing/src/index.js';
import { ADMIN_TOKEN, apiClient, freshDatabase, SECRET_KEY } from './support/controller.js';

/**
 * There is no Docker engine here, so the image is checked by replaying its Dockerfile: the build
 * stage's COPY and RUN steps (`npm ci` from the lock file, build, prune) in an empty directory, the
 * final stage's copies out of it, then both of the image's processes started from the result. A lock
 * file `npm ci` refuses, a build that needs something not copied, or a runtime import of a package
 * that only development installs fails here.
 */
describe('the Dockerfile, replayed without Docker', () => {
  const root = mkdtempSync(join(tmpdir(), 'vigil-image-'));
  const stopping: (() => Promise<unknown>)[] = [];

  afterAll(async () => {
    await Promise.all(stopping.map((stop) => stop()));
    rmSync(root, { recursive: true, force: true });
  });

  it('builds from a clean copy with npm ci, and the pruned image runs the controller (console included) and an agent', async () => {
    const [build, final] = parseDockerfile(readFileSync('Dockerfile', 'utf8'));
    expect(build!.name).toBe('build');
    const fs = (stageRoot: string, workdir: string, path: string) => join(stageRoot, posix.isAbsolute(path) ? path : posix.join(workdir, path));

    // Docker's COPY: a directory's contents go to the destination; a file goes into it when it ends
    // with "/" (or several sources are given), else becomes it.
    const copy = (from: string, dest: string, into: boolean) =>
      cpSync(from, statSync(from).isDirectory() || !into ? dest : join(dest, posix.basename(from)), { recursive: true });

    const buildRoot = join(root, 'build');
    for (const step of build!.steps) {
      const cwd = fs(buildRoot, build!.workdir, '.');
      mkdirSync(cwd, { recursive: true });
      if (step.kind === 'copy') {
        const into = step.dest.endsWith('/') || step.sources.length > 1;
        for (const source of step.sources) copy(source, fs(buildRoot, build!.workdir, step.dest), into);
      } else {
        execFileSync('sh', ['-c', step.command], {
          cwd,
          stdio: 'pipe',
          env: { ...process.env, ...build!.env, npm_config_update_notifier: 'false' },
          timeout: 600_000,
        });
      }
    }

    const appRoot = join(root, 'final');
    for (const step of final!.steps) {
      expect(step.kind).toBe('copy');
      if (step.kind !== 'copy') continue;
      expect(step.from).toBe('build');
      const into = step.dest.endsWith('/') || step.sources.length > 1;
      for (const source of step.sources) {
        expect(isAbsolute(source)).toBe(true);
        copy(join(buildRoot, source), fs(appRoot, final!.workdir, step.dest), into);
      }
    }
    const app = fs(appRoot, final!.workdir, '.');
    expect(existsSync(join(app, 'dist/console/index.html'))).toBe(true);
    // Pruned: development-only packages are gone.
    expect(existsSync(join(app, 'node_modules/vitest'))).toBe(false);
    expect(existsSync(join(app, 'node_modules/dns-packet'))).toBe(false);

    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const [command, ...args] = final!.cmd!;
    const controller = startProcess(command!, args, {
      cwd: app,
      env: {
        PATH: process.env['PATH'],
        ...final!.env,
        DATABASE_URL: await freshDatabase(),
        VIGIL_SECRET_KEY: SECRET_KEY,
        VIGIL_ADMIN_TOKEN: ADMIN_TOKEN,
        HTTP_PORT: String(port),
        HTTP_HOST: '127.0.0.1',
      },
    });
    stopping.push(() => controller.stop());
    await waitFor(
      async () => {
        if (controller.child.exitCode !== null) throw new Error(controller.output());
        return (await fetch(`${url}/health/ready`).catch(() => undefined))?.ok;
      },
      30_000,
      'the image controller to be ready',
    );
    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="root">');
    const api = apiClient(url);
    const token = (await api('POST', '/api/v1/tokens', { body: { name: 'image-agent', role: 'agent' } })).body.token;

    const agent = startProcess('node', ['dist/apps/probe-agent/src/main.js'], {
      cwd: app,
      env: {
        PATH: process.env['PATH'],
        ...final!.env,
        VIGIL_CONTROLLER_URL: url,
        VIGIL_AGENT_TOKEN: token,
        VIGIL_AGENT_NAME: 'image-agent',
        VIGIL_AGENT_ZONE: 'a',
      },
    });
    stopping.push(() => agent.stop());
    await waitFor(
      async () => {
        if (agent.child.exitCode !== null) throw new Error(agent.output());
        return (await api('GET', '/api/v1/agents')).body.items.some((a: { name: string; state: string }) => a.name === 'image-agent' && a.state === 'active');
      },
      30_000,
      'the image agent to register',
    );
  }, 900_000);
});
