/**
 * bench:console's measurement in Chromium: a recorder injected before the console's code times the
 * overview's table from navigation start, so the numbers do not include the harness's round trips.
 */
import { type Browser } from 'playwright-core';
import { BENCH_ADMIN_TOKEN } from './admin-api.js';
import { type OverviewItem } from './console-api.js';
import { CLUSTERS } from './console-settings.js';

/**
 * Runs in every document of the context before the console's code: records, in `performance.now()`
 * time (from navigation start), when the table first holds every row and the frame after, and, once
 * armed, when the search box gets an input event and when the table then shows what was expected.
 */
const RECORDER = `(() => {
  const ROWS = 'table.clusters > tbody > tr';
  const b = { total: __TOTAL__, full: null, fullFrame: null, target: null, input: null, done: null, doneFrame: null, status: null };
  const afterFrame = (set) => requestAnimationFrame(() => { const c = new MessageChannel(); c.port1.onmessage = () => set(performance.now()); c.port2.postMessage(null); });
  const statusText = () => { for (const s of document.querySelectorAll('[role=status]')) if (/clusters$/.test(s.textContent)) return s.textContent; return null; };
  const check = () => {
    const rows = document.querySelectorAll(ROWS);
    if (b.full === null && rows.length === b.total) { b.full = performance.now(); b.status = statusText(); afterFrame((t) => { b.fullFrame = t; }); }
    const t = b.target;
    if (t && b.input !== null && b.done === null && rows.length === t.rows) {
      const first = rows[0] && rows[0].querySelector('th');
      if (t.first === null || (first && first.textContent === t.first)) { b.done = performance.now(); b.status = statusText(); afterFrame((x) => { b.doneFrame = x; }); }
    }
  };
  new MutationObserver(check).observe(document, { childList: true, subtree: true, characterData: true });
  document.addEventListener('input', (e) => { if (b.target && b.input === null && e.target && e.target.id === 'search') b.input = performance.now(); }, true);
  b.arm = (rows, first) => { b.target = { rows, first }; b.input = null; b.done = null; b.doneFrame = null; };
  window.__vigilBench = b;
})();`;

interface Recorded {
  full: number | null;
  fullFrame: number | null;
  input: number | null;
  done: number | null;
  doneFrame: number | null;
  status: string | null;
}

/** What the recorder puts on the page's window. */
interface InPage {
  __vigilBench: Recorded & { arm(rows: number, first: string | null): void };
}

interface ResourceEntry {
  name: string;
  startTime: number;
  responseEnd: number;
  initiatorType: string;
}

export interface Load {
  /** Navigation start → every row in the DOM (before paint), and the frame after (painted). */
  rows: number;
  rowsFrame: number;
  /** Name entered (one input event) → only its row in the DOM; and the frame after. */
  search: number;
  searchFrame: number;
  /** Search cleared (select all, Backspace) → every row again. */
  clear: number;
  /** Every row painted + the search answered and painted. */
  interactive: number;
  /** The same in DOM times, before paint. */
  interactiveDom: number;
  /** Navigation start → the last initial script received, /whoami answered, the overview asked and answered (resource timing). */
  scriptsEnd: number;
  whoamiEnd: number;
  overviewStart: number;
  overviewEnd: number;
  scripts: string[];
  errors: string[];
}

/**
 * One cold load of `/#/` in a new browser context (empty cache and storage, the admin token in session
 * storage before navigation), then `search` entered and cleared; every time is taken in the page.
 */
export async function coldLoad(browser: Browser, base: string, search: string): Promise<Load> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  try {
    await context.addInitScript({ content: `sessionStorage.setItem('vigil.token', ${JSON.stringify(BENCH_ADMIN_TOKEN)});` });
    await context.addInitScript({ content: RECORDER.replace('__TOTAL__', String(CLUSTERS)) });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error') errors.push(msg.text());
    });
    const scripts: string[] = [];
    page.on('request', (req) => {
      if (req.resourceType() === 'script') scripts.push(new URL(req.url()).pathname);
    });
    // Functions, not strings: the console's Content-Security-Policy forbids evaluating strings in the page.
    const read = () => page.evaluate(() => ({ ...(globalThis as unknown as InPage).__vigilBench }) as Recorded);
    const recorded = (key: 'fullFrame' | 'doneFrame' | 'done', timeout: number) =>
      page.waitForFunction((k) => ((globalThis as unknown as Partial<InPage>).__vigilBench?.[k] ?? null) !== null, key, { timeout, polling: 50 });
    await page.goto(`${base}/#/`);
    await recorded('fullFrame', 60_000).catch((err: unknown) => {
      throw new Error(`the overview never showed ${CLUSTERS} rows: ${String(err)}; page errors: ${errors.join(' | ') || 'none'}`);
    });
    const loaded = await read();

    await page.evaluate((name) => (globalThis as unknown as InPage).__vigilBench.arm(1, name), search);
    await page.fill('#search', search);
    await recorded('doneFrame', 30_000);
    const filtered = await read();

    await page.evaluate((rows) => (globalThis as unknown as InPage).__vigilBench.arm(rows, null), CLUSTERS);
    await page.locator('#search').selectText();
    await page.keyboard.press('Backspace');
    await recorded('done', 30_000);
    const cleared = await read();

    const timing = await page.evaluate(() =>
      (performance.getEntriesByType('resource') as unknown as ResourceEntry[]).map((e) => ({
        name: e.name,
        startTime: e.startTime,
        responseEnd: e.responseEnd,
        initiatorType: e.initiatorType,
      })),
    );
    const entry = (path: string) => timing.find((e) => new URL(e.name).pathname === path);
    const scriptEnds = timing.filter((e) => e.initiatorType === 'script' || e.name.endsWith('.js')).map((e) => e.responseEnd);
    if (!/^\d[\d,]* clusters$/.test(loaded.status ?? '') || !/^1 of /.test(filtered.status ?? '')) {
      errors.push(`status line: "${loaded.status}", then "${filtered.status}"`);
    }

    return {
      rows: loaded.full!,
      rowsFrame: loaded.fullFrame!,
      search: filtered.done! - filtered.input!,
      searchFrame: filtered.doneFrame! - filtered.input!,
      clear: cleared.done! - cleared.input!,
      interactive: loaded.fullFrame! + (filtered.doneFrame! - filtered.input!),
      interactiveDom: loaded.full! + (filtered.done! - filtered.input!),
      scriptsEnd: scriptEnds.length ? Math.max(...scriptEnds) : NaN,
      whoamiEnd: entry('/api/v1/whoami')?.responseEnd ?? NaN,
      overviewStart: entry('/api/v1/overview')?.startTime ?? NaN,
      overviewEnd: entry('/api/v1/overview')?.responseEnd ?? NaN,
      scripts: [...new Set(scripts)],
      errors,
    };
  } finally {
    await context.close();
  }
}

/** A cluster whose name matches no other cluster's name or master address: searching it leaves one row. */
export function uniqueSearch(items: OverviewItem[]): string {
  const matches = (needle: string) => items.filter((c) => c.name.toLowerCase().includes(needle) || (c.master ?? '').includes(needle)).length;
  const middle = Math.floor(items.length / 2);
  for (let i = 0; i < items.length; i++) {
    const name = items[(middle + i) % items.length]!.name;
    if (matches(name.toLowerCase()) === 1) return name;
  }
  throw new Error('no cluster name is unique as a search');
}
