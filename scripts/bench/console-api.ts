/** bench:console's view of `GET /api/v1/overview`: the fields it reads, and the API's own timing. */
import { gzipSync } from 'node:zlib';
import { BENCH_ADMIN_TOKEN } from './admin-api.js';

export interface OverviewItem {
  name: string;
  health: string;
  master?: string | null;
  reasons?: string[];
}
export interface Overview {
  items: OverviewItem[];
  counts: Record<string, number>;
}

export interface ApiTimes {
  ms: number[];
  bytes: number;
  gzip: number;
  encoding: string | null;
}

/**
 * `calls` sequential `GET /api/v1/overview` from this process, each timed to the last byte of its body;
 * the size of the last body, raw and gzipped, and the encoding the controller served it with.
 */
export async function timeOverview(base: string, calls: number): Promise<ApiTimes> {
  const ms: number[] = [];
  let body = '';
  let encoding: string | null = null;
  for (let i = 0; i < calls; i++) {
    const t0 = performance.now();
    const res = await fetch(`${base}/api/v1/overview`, { headers: { authorization: `Bearer ${BENCH_ADMIN_TOKEN}` } });
    body = await res.text();
    ms.push(performance.now() - t0);
    if (!res.ok) throw new Error(`GET /api/v1/overview: ${res.status} ${body.slice(0, 300)}`);
    encoding = res.headers.get('content-encoding');
  }
  const raw = Buffer.from(body);
  return { ms, bytes: raw.length, gzip: gzipSync(raw, { level: 9 }).length, encoding };
}
