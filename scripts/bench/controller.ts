import { freePort, type ManagedProcess, startProcess, waitFor } from '../../libs/testing/src/index.js';
import { BENCH_ADMIN_TOKEN } from './admin-api.js';

export interface BenchController {
  base: string;
  proc: ManagedProcess;
  /** The variables it was started with beyond the defaults (ports picked for this attempt included). */
  env: Record<string, string>;
}

export interface BenchControllerOptions {
  databaseUrl: string;
  name: string;
  /** The build to run (default `dist`). */
  dist?: string;
  /** Node options; BENCH_CONTROLLER_NODE_ARGS is added to them (e.g. `--cpu-prof`). */
  nodeArgs?: string[];
  /** More variables, asked again for each attempt (so ports it picks are fresh). */
  env?: () => Promise<Record<string, string>> | Record<string, string>;
}

/**
 * A controller process, ready (`/health/ready`), with the benchmarks' admin token and quiet logs. A free
 * port can be taken by an outgoing connection before the controller listens: a few tries.
 */
export async function startBenchController(o: BenchControllerOptions): Promise<BenchController> {
  const nodeArgs = [...(o.nodeArgs ?? []), ...(process.env['BENCH_CONTROLLER_NODE_ARGS'] ?? '').split(' ').filter(Boolean)];
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const env = (await o.env?.()) ?? {};
    const proc = startProcess('node', [...nodeArgs, `${o.dist ?? 'dist'}/apps/controller/src/main.js`], {
      env: {
        ...process.env,
        DATABASE_URL: o.databaseUrl,
        HTTP_PORT: String(port),
        HTTP_HOST: '127.0.0.1',
        VIGIL_ADMIN_TOKEN: BENCH_ADMIN_TOKEN,
        VIGIL_SECRET_KEY: 'e'.repeat(64),
        CONTROLLER_NAME: o.name,
        CONSOLE_DIR: 'off',
        LOG_LEVEL: 'warn',
        ...env,
      },
    });
    try {
      await waitFor(
        async () => {
          if (proc.child.exitCode !== null) throw new Error(`controller ${o.name} exited: ${proc.output().slice(-2000)}`);
          return (await fetch(`${base}/health/ready`).catch(() => undefined))?.ok;
        },
        60_000,
        `controller ${o.name} ready`,
      );
      return { base, proc, env };
    } catch (err) {
      await proc.stop('SIGKILL');
      if (attempt >= 3 || !/EADDRINUSE/.test(String(err))) throw err;
    }
  }
}

/** Runs `fn` over `items` with `size` calls in flight (a bulk import's pace). */
export async function inBatches<T>(items: readonly T[], size: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: size }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}
