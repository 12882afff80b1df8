/**
 * An HTTP load generator in a process of its own: `connections` keep-alive connections (node:http Agent),
 * each sending the next GET as soon as the previous answer is read. After `warmupMs`, every request
 * completed within the next `durationMs` is counted with its latency. Started with one JSON argument
 * (`HttpLoadOptions`); answers once over the fork IPC channel with `{ type: 'result', … }` (`HttpLoadResult`).
 */
import { Agent, request } from 'node:http';

export interface HttpLoadOptions {
  url: string;
  headers?: Record<string, string>;
  connections: number;
  warmupMs: number;
  durationMs: number;
}

export interface HttpLoadResult {
  /** Requests completed inside the window. */
  requests: number;
  seconds: number;
  /** Latencies in ms inside the window, sorted (sampled down to at most 200,000). */
  latenciesMs: number[];
  /** Answers other than 200 and transport errors, whole run. */
  non200: number;
  errors: number;
  lastError: string;
  /** CPU the generator itself used over the window, in cores. */
  cpuCores: number;
}

const MAX_SAMPLES = 200_000;

async function run(o: HttpLoadOptions): Promise<HttpLoadResult> {
  const url = new URL(o.url);
  const agent = new Agent({ keepAlive: true, maxSockets: o.connections, maxFreeSockets: o.connections, scheduling: 'fifo' });
  const start = performance.now();
  const windowStart = start + o.warmupMs;
  const windowEnd = windowStart + o.durationMs;
  const latencies: number[] = [];
  let requests = 0;
  let non200 = 0;
  let errors = 0;
  let lastError = '';
  let cpuAtWindow: NodeJS.CpuUsage | undefined;

  const one = () =>
    new Promise<void>((resolve) => {
      const t0 = performance.now();
      const req = request({ agent, host: url.hostname, port: url.port, path: url.pathname + url.search, method: 'GET', headers: o.headers }, (res) => {
        if (res.statusCode !== 200) non200++;
        res.on('data', () => undefined);
        res.on('end', () => {
          const t1 = performance.now();
          if (t0 >= windowStart && t1 <= windowEnd) {
            requests++;
            latencies.push(t1 - t0);
          }
          resolve();
        });
        res.on('error', () => resolve());
      });
      req.on('error', (err) => {
        errors++;
        lastError = err.message;
        setTimeout(resolve, 10);
      });
      req.end();
    });

  const loop = async () => {
    while (performance.now() < windowEnd) {
      if (cpuAtWindow === undefined && performance.now() >= windowStart) cpuAtWindow = process.cpuUsage();
      await one();
    }
  };
  await Promise.all(Array.from({ length: o.connections }, loop));
  const cpu = process.cpuUsage(cpuAtWindow);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const step = Math.max(1, Math.ceil(latencies.length / MAX_SAMPLES));
  return {
    requests,
    seconds: o.durationMs / 1000,
    latenciesMs: step === 1 ? latencies : latencies.filter((_, i) => i % step === 0),
    non200,
    errors,
    lastError,
    cpuCores: (cpu.user + cpu.system) / 1e6 / (o.durationMs / 1000),
  };
}

run(JSON.parse(process.argv[2]!) as HttpLoadOptions)
  .then((result) => process.send!({ type: 'result', ...result }, () => process.exit(0)))
  .catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
