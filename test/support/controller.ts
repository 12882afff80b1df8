import type { INestApplication } from '@nestjs/common';
import { inject } from 'vitest';
import { createControllerApp } from '../../apps/controller/src/app.js';
import { type ControllerConfig, loadConfig } from '../../apps/controller/src/config/config.js';
import { existsSync } from 'node:fs';
import { createDatabase, freePort, type ManagedProcess, startProcess, waitFor } from '../../libs/testing/src/index.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';
export const SECRET_KEY = 'a'.repeat(64);

/** A fresh, empty database for one test file. */
export function freshDatabase(): Promise<string> {
  return createDatabase(inject('pgAdminUrl'));
}

export interface ApiAnswer<T = any> {
  status: number;
  body: T;
  headers: Headers;
  text: string;
}

/** A tiny HTTP client for one controller. */
export function apiClient(baseUrl: string) {
  return async function call<T = any>(
    method: string,
    path: string,
    options: { token?: string | null; body?: unknown; raw?: string; headers?: Record<string, string> } = {},
  ): Promise<ApiAnswer<T>> {
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    const token = options.token === undefined ? ADMIN_TOKEN : options.token;
    if (token !== null) headers['authorization'] = `Bearer ${token}`;
    let payload: string | undefined;
    if (options.raw !== undefined) payload = options.raw;
    else if (options.body !== undefined) payload = JSON.stringify(options.body);
    if (payload !== undefined) headers['content-type'] ??= 'application/json';
    const res = await fetch(`${baseUrl}${path}`, { method, headers, body: payload });
    const text = await res.text();
    let body: any = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON
    }
    return { status: res.status, body, headers: res.headers, text };
  };
}

export type Api = ReturnType<typeof apiClient>;

export interface TestController {
  url: string;
  app: INestApplication;
  config: ControllerConfig;
  api: Api;
  close(): Promise<void>;
}

/** Boots the real controller (all modules, migrations, BullMQ) in this process on a free port. */
export async function startTestController(databaseUrl: string, env: Record<string, string> = {}): Promise<TestController> {
  const config = loadConfig({
    DATABASE_URL: databaseUrl,
    VIGIL_SECRET_KEY: SECRET_KEY,
    VIGIL_ADMIN_TOKEN: ADMIN_TOKEN,
    HTTP_PORT: '0',
    HTTP_HOST: '127.0.0.1',
    LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'silent',
    CONTROLLER_NAME: 'test-controller',
    REDIS_ADMIN_TIMEOUT_MS: '500',
    ...env,
  });
  const app = await createControllerApp(config);
  await app.listen(config.httpPort, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  return { url, app, config, api: apiClient(url), close: () => app.close() };
}

export interface ControllerProcess {
  url: string;
  api: Api;
  process: ManagedProcess;
}

/** The built controller as a real process (so a test can SIGKILL it), ready to serve; on `env.HTTP_PORT` when given (a restart). */
export async function startControllerProcess(databaseUrl: string, env: Record<string, string>): Promise<ControllerProcess> {
  const entry = 'dist/apps/controller/src/main.js';
  if (!existsSync(entry)) throw new Error('build output missing: run `npm run build` (npm test does it for you)');
  const port = env['HTTP_PORT'] ? Number(env['HTTP_PORT']) : await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc = startProcess('node', [entry], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      VIGIL_SECRET_KEY: SECRET_KEY,
      VIGIL_ADMIN_TOKEN: ADMIN_TOKEN,
      HTTP_PORT: String(port),
      HTTP_HOST: '127.0.0.1',
      ...env,
    },
  });
  await waitFor(
    async () => {
      if (proc.child.exitCode !== null) throw new Error(proc.output());
      return (await fetch(`${url}/health/ready`).catch(() => undefined))?.ok;
    },
    30_000,
    'the controller process to be ready',
  ).catch(async (err: Error) => {
    await proc.stop('SIGKILL');
    throw new Error(`${err.message}\n${proc.output().slice(-4000)}`);
  });
  return { url, api: apiClient(url), process: proc };
}
