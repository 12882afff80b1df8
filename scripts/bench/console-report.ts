/**
 * bench:console's output: the table printed at the end of a run and the BENCHMARKS.md section, kept apart
 * from the measurement so the wording can change without touching what is measured.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import * as prettier from 'prettier';
import { type InitialJs } from './console-build.js';
import { f, healthCounts, kB, max } from './console-format.js';
import { type Load } from './console-page.js';
import { type Phase } from './console-series.js';
import {
  API_CALLS,
  CLUSTERS,
  DOWN_AFTER_MS,
  INITIAL_JS_BUDGET,
  INTERACTIVE_BUDGET_MS,
  LOADS,
  PROBE_INTERVAL_MS,
  QUIET_WAIT_S,
  SECTION,
} from './console-settings.js';
import { percentile, writeBenchmarkSection } from './report.js';

/** Everything one run measured, as the terminal table and the BENCHMARKS.md section read it. */
export interface Result {
  at: string;
  machine: string;
  chromium: string;
  seconds: number;
  js: InitialJs;
  search: string;
  probing: Phase;
  quiet: Phase;
  extraScripts: string[];
  pageErrors: number;
}

/** What the labels the probing series saw mean here. */
function labelNotes(r: Result): string {
  const seen = r.probing.healthAfter.join(' ');
  const notes: string[] = [];
  if (seen.includes('cannot-decide'))
    notes.push(
      `cannot-decide: fewer than two of the three agents could vote (an agent votes only while its probe lag plus its interval stays below two thirds of the down-after, here a lag under ${f((DOWN_AFTER_MS * 2) / 3 - PROBE_INTERVAL_MS)} ms; the agents' lag after the loads: ${r.probing.agentLagMs.map((x) => f(x)).join(' / ')} ms)`,
    );
  if (seen.includes('master-down')) notes.push('master-down: a majority of the agents saw the master down (automatic failover is off, as in `bench:detect`)');
  if (seen.includes('master-unreachable')) notes.push('master-unreachable: some agents saw the master down');
  return notes.length ? `; ${notes.join('; ')}` : '';
}

/** `ok 1,000 ×2 → cannot-decide 1,000 ×3`: consecutive equal values once each, with their count. */
function runLengths(values: string[]): string {
  const runs: [string, number][] = [];
  for (const v of values) {
    const last = runs[runs.length - 1];
    if (last && last[0] === v) last[1]++;
    else runs.push([v, 1]);
  }
  return runs.map(([v, n]) => (n > 1 ? `${v} ×${n}` : v)).join(' → ');
}

const of = (p: Phase, key: Exclude<keyof Load, 'scripts' | 'errors'>) => p.loads.map((l) => l[key]);

const PAGE_ROWS: [string, Exclude<keyof Load, 'scripts' | 'errors'>][] = [
  ['Navigation → last initial script received', 'scriptsEnd'],
  ['Navigation → `/api/v1/whoami` answered', 'whoamiEnd'],
  ['Navigation → `/api/v1/overview` asked', 'overviewStart'],
  ['Navigation → `/api/v1/overview` answered', 'overviewEnd'],
  [`Navigation → ${f(CLUSTERS)} rows in the DOM`, 'rows'],
  [`Navigation → ${f(CLUSTERS)} rows painted (next frame)`, 'rowsFrame'],
  ['Search: name entered → its row alone in the DOM', 'search'],
  ['Search: name entered → its row alone painted', 'searchFrame'],
  [`Search cleared → ${f(CLUSTERS)} rows in the DOM`, 'clear'],
  ['**Interactive**: rows painted + search painted', 'interactive'],
  ['Interactive in DOM times (before paint)', 'interactiveDom'],
];

function verdict(xs: number[]): string {
  if (max(xs) < INTERACTIVE_BUDGET_MS) return 'met';
  return percentile(xs, 50) < INTERACTIVE_BUDGET_MS ? 'met at the median, not at the max' : 'not met';
}

/** The run's numbers on the terminal: one line per measure, the two series side by side. */
export function print(r: Result): void {
  console.log('');
  console.log(`${'ms, median / max'.padEnd(56)}${'agents probing'.padStart(18)}${'agents paused'.padStart(18)}`);
  const cell = (xs: number[]) => `${f(percentile(xs, 50))} / ${f(max(xs))}`.padStart(18);
  for (const [label, key] of PAGE_ROWS) console.log(`${label.replace(/[`*]/g, '').padEnd(56)}${cell(of(r.probing, key))}${cell(of(r.quiet, key))}`);
  console.log(
    `${'GET /api/v1/overview from Node, p50 / p95'.padEnd(56)}${[r.probing, r.quiet].map((p) => `${f(percentile(p.api.ms, 50))} / ${f(percentile(p.api.ms, 95))}`.padStart(18)).join('')}`,
  );
  console.log(
    `${'cores busy before / during the loads: machine'.padEnd(56)}${[r.probing, r.quiet].map((p) => `${f(p.before.machine, 2)} / ${f(p.during.machine, 2)}`.padStart(18)).join('')}`,
  );
  console.log(
    `${'   of which this benchmark (its processes, the browser)'.padEnd(56)}${[r.probing, r.quiet].map((p) => `${f(p.before.own, 2)} / ${f(p.during.own, 2)}`.padStart(18)).join('')}`,
  );
  console.log('');
  console.log(`overview body: ${kB(r.probing.api.bytes)} kB (${kB(r.probing.api.gzip)} kB gzipped), served ${r.probing.api.encoding ?? 'uncompressed'}`);
  console.log(
    `interactive < ${INTERACTIVE_BUDGET_MS} ms: agents probing ${verdict(of(r.probing, 'interactive'))}; agents paused ${verdict(of(r.quiet, 'interactive'))}`,
  );
  console.log(`initial JavaScript: ${kB(r.js.gzip)} kB gzipped, budget ${kB(INITIAL_JS_BUDGET)} kB: ${r.js.gzip <= INITIAL_JS_BUDGET ? 'met' : 'NOT met'}`);
  console.log(`overview health after each load, agents probing: ${r.probing.healthAfter.join(' | ')}`);
  console.log(`overview health after each load, agents paused: ${r.quiet.healthAfter.join(' | ')}`);
  if (r.extraScripts.length) console.log(`scripts loaded beyond index.html's: ${r.extraScripts.join(', ')}`);
  if (r.pageErrors) console.log(`page errors: ${r.pageErrors} (see above)`);
}

/** The BENCHMARKS.md section: the method, the numbers, and what the health labels seen mean. */
export function render(r: Result): string {
  const cell = (xs: number[], bold = false) => {
    const m = `${f(percentile(xs, 50))} / ${f(max(xs))}`;
    return bold ? `**${m}**` : m;
  };
  const counts = (p: Phase) => healthCounts(p.counts);
  const apiCell = (p: Phase) => `${f(percentile(p.api.ms, 50), 1)} / ${f(percentile(p.api.ms, 95), 1)} / ${f(max(p.api.ms), 1)}`;
  const pageRows = PAGE_ROWS.map(([label, key]) => {
    const bold = key === 'interactive';
    return `| ${label} | ${cell(of(r.probing, key), bold)} | ${cell(of(r.quiet, key), bold)} |`;
  }).join('\n');
  return `## Console (\`npm run bench:console\`)

Run ${r.at} on ${r.machine}; Chromium ${r.chromium} (Debian, headless); ${f(r.seconds)} s in all.

**Method.** As in \`bench:detect\`: ${f(CLUSTERS)} clusters of 3 nodes (the node farm, \`scripts/bench/node-farm.ts\`) are created
through the REST API on a fresh PostgreSQL and probed every ${PROBE_INTERVAL_MS} ms by three probe agents reporting to one controller,
each a process of its own; the controller serves the console, built by Vite for the run. Once every node is up, the page is
measured twice: with the agents probing, everything on this machine, then with the agents and the node farm stopped (SIGSTOP),
which leaves the cores to the browser. Cores busy are the machine's (\`/proc/stat\`) and, in parentheses, this benchmark's own
processes, the browser included; the rest is other load on the machine, which is shared (each series starts once that is below
0.25 cores, or after ${QUIET_WAIT_S} s).

- _Initial JavaScript_: every \`<script src>\` and \`modulepreload\` of the built \`index.html\` (${r.js.files.map((x) => `\`${x.file}\``).join(', ')}),
  gzipped with zlib level 9. ${r.extraScripts.length ? `The overview also loaded ${r.extraScripts.map((x) => `\`${x}\``).join(', ')}.` : 'The overview loaded no other script.'}
- _API_: ${API_CALLS} sequential \`GET /api/v1/overview\` from the benchmark process (Node's fetch, keep-alive), time to the last byte
  of the body.
- _Page_: ${LOADS} cold loads of \`/#/\` per series, each in a new browser context (empty cache and storage; 1280 × 900) with the admin
  token put in session storage before navigation, under the console's real Content-Security-Policy. Times are taken in the page
  from navigation start (\`performance.now()\`): the table holding all ${f(CLUSTERS)} rows (a MutationObserver, before paint) and the frame
  after (painted); resource timing for the scripts and API calls. Then the name of one cluster (\`${r.search}\`) is entered in the
  search box at once (one \`input\` event, as a paste) and timed to the table showing only that row, then the box is cleared
  (select all, Backspace) and timed to all rows again. _Interactive_ is the time to all rows painted plus the search's time to its
  row painted (the harness's own delay between the two is left out).

| Measure | Agents probing | Agents paused | Budget |
| --- | --- | --- | --- |
| Initial JavaScript, gzipped | **${kB(r.js.gzip)} kB** (${kB(r.js.bytes)} kB before gzip, ${r.js.files.length} file${r.js.files.length === 1 ? '' : 's'}) | | ≤ ${kB(INITIAL_JS_BUDGET)} kB: ${r.js.gzip <= INITIAL_JS_BUDGET ? 'met' : '**not met**'} |
| \`GET /api/v1/overview\` p50 / p95 / max (ms) | ${apiCell(r.probing)} | ${apiCell(r.quiet)} | |
| \`GET /api/v1/overview\` body, served ${r.probing.api.encoding ? `with \`${r.probing.api.encoding}\`` : 'uncompressed'} (gzipped) | ${kB(r.probing.api.bytes)} kB (${kB(r.probing.api.gzip)} kB) | ${kB(r.quiet.api.bytes)} kB (${kB(r.quiet.api.gzip)} kB) | |
| Cores busy before the page loads (3 s) | ${f(r.probing.before.machine, 2)} (${f(r.probing.before.own, 2)}) | ${f(r.quiet.before.machine, 2)} (${f(r.quiet.before.own, 2)}) | |
| Cores busy during the page loads | ${f(r.probing.during.machine, 2)} (${f(r.probing.during.own, 2)}) | ${f(r.quiet.during.machine, 2)} (${f(r.quiet.during.own, 2)}) | |

| Page, ${LOADS} cold loads each, ms: median / max | Agents probing | Agents paused |
| --- | --- | --- |
${pageRows}

Overview health before the loads; after each load. Agents probing: ${counts(r.probing)}; ${runLengths(r.probing.healthAfter)}.
Agents paused: ${counts(r.quiet)}; ${runLengths(r.quiet.healthAfter)} (without reports the agents' votes lapse).${
    r.probing.healthAfter.some((h) => h !== counts(r.probing))
      ? ` With the agents probing, the labels changed while the browser shared the cores${labelNotes(r)}.`
      : ''
  }

Interactive < ${f(INTERACTIVE_BUDGET_MS)} ms: ${verdict(of(r.probing, 'interactive'))} with the agents probing, ${verdict(of(r.quiet, 'interactive'))} with them paused.
`;
}

/** Rewrites this benchmark's section; a first run places it before the fault-injection section. */
export function writeSection(body: string, file = 'BENCHMARKS.md'): void {
  const text = readFileSync(file, 'utf8');
  const start = `<!-- ${SECTION}:start -->`;
  if (!text.includes(start)) {
    const anchor = ['<!-- chaos:start -->', '## Fault injection'].map((a) => text.indexOf(a)).find((i) => i >= 0);
    if (anchor !== undefined) writeFileSync(file, `${text.slice(0, anchor)}${start}\n<!-- ${SECTION}:end -->\n\n${text.slice(anchor)}`);
  }
  writeBenchmarkSection(SECTION, body, file);
}

/** Prettier's formatting of the whole file, as `npm run lint` checks it. */
export async function formatMarkdown(file: string): Promise<void> {
  const options = (await prettier.resolveConfig(file)) ?? {};
  writeFileSync(file, await prettier.format(readFileSync(file, 'utf8'), { ...options, filepath: file }));
}
