import type pg from 'pg';

/** The id of the newest event (0 when none): a cursor for "what happened since". */
export async function lastEventId(db: pg.Client): Promise<number> {
  const { rows } = await db.query<{ id: string | null }>('SELECT max(id) AS id FROM events');
  return Number(rows[0]?.id ?? 0);
}

/** Count of each (cluster, type) among events after `afterId` (up to `untilId` when given) of the given types. */
export async function eventCounts(db: pg.Client, afterId: number, types: string[], untilId?: number): Promise<Map<string, Map<string, number>>> {
  const { rows } = await db.query<{ cluster: string | null; type: string; n: string }>(
    `SELECT cluster_name AS cluster, type, count(*) AS n FROM events
      WHERE id > $1 AND ($2::bigint IS NULL OR id <= $2) AND type = ANY($3) GROUP BY 1, 2`,
    [afterId, untilId ?? null, types],
  );
  const out = new Map<string, Map<string, number>>();
  for (const r of rows) {
    const key = r.cluster ?? '';
    if (!out.has(key)) out.set(key, new Map());
    out.get(key)!.set(r.type, Number(r.n));
  }
  return out;
}

/** Events of every type after `afterId`, counted by type (what the log grew by in a window). */
export async function eventTypeCounts(db: pg.Client, afterId: number, untilId?: number): Promise<Record<string, number>> {
  const { rows } = await db.query<{ type: string; n: string }>(
    `SELECT type, count(*) AS n FROM events WHERE id > $1 AND ($2::bigint IS NULL OR id <= $2) GROUP BY 1 ORDER BY 2 DESC`,
    [afterId, untilId ?? null],
  );
  return Object.fromEntries(rows.map((r) => [r.type, Number(r.n)]));
}

/** Waits for an event of `type` on `cluster` after `afterId`; true when it came within `timeoutMs`. */
export async function waitForEvent(db: pg.Client, afterId: number, cluster: string, type: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const { rows } = await db.query('SELECT 1 FROM events WHERE id > $1 AND cluster_name = $2 AND type = $3 LIMIT 1', [afterId, cluster, type]);
    if (rows.length > 0) return true;
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}
