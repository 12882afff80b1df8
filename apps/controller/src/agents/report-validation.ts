import { type AgentReport, OPTIONAL_REPORT_FIELDS, type OptionalReportField, optionalKeysAt, PROBE_STATUSES } from '../../../../libs/contracts/src/index.js';
import type { FieldIssue } from '../common/errors.js';

/**
 * Checks an agent report field by field. Hand-written rather than class-validator: a report holds
 * thousands of entries several times a second, and class-validator would build and decorate-walk an
 * object per entry (3,000 entries take about 2 ms here).
 * Either the whole report is valid or it is refused whole, so a bad report changes nothing.
 */

const MAX_ISSUES = 20;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TEN_YEARS_MS = 315_360_000_000;
/** The baseline report (release 0.1.0): every controller accepts these keys. */
const REPORT_KEYS = ['seq', 'assignment', 'intervalMs', 'lagMs', 'nodes'];
const NODE_KEYS = ['id', 'st', 'ago', 'lat', 'err', 'repl'];
const REPL_KEYS = ['role', 'runId', 'offset', 'masterHost', 'masterPort', 'linkUp', 'linkDownSinceS', 'replicas', 'ageMs'];

/** The keys allowed at each level: the baseline plus the optional fields this controller accepts (and advertises). */
interface KeySets {
  report: Set<string>;
  node: Set<string>;
  repl: Set<string>;
}

function keySets(accepted: readonly OptionalReportField[]): KeySets {
  return {
    report: new Set([...REPORT_KEYS, ...optionalKeysAt('report', accepted)]),
    node: new Set([...NODE_KEYS, ...optionalKeysAt('node', accepted)]),
    repl: new Set([...REPL_KEYS, ...optionalKeysAt('repl', accepted)]),
  };
}
const STATUSES = new Set<string>(PROBE_STATUSES);

export const MAX_REPORT_NODES = 100_000;

type Obj = Record<string, unknown>;

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isInt(v: unknown, min: number, max: number): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
}

function isNum(v: unknown, min: number, max: number): boolean {
  return typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max;
}

function isStr(v: unknown, max: number): boolean {
  return typeof v === 'string' && v.length <= max;
}

class Issues {
  readonly list: FieldIssue[] = [];
  add(field: string, reason: string): void {
    if (this.list.length < MAX_ISSUES) this.list.push({ field, reason });
  }
  get full(): boolean {
    return this.list.length >= MAX_ISSUES;
  }
}

function unknownKeys(o: Obj, allowed: Set<string>, path: string, issues: Issues): void {
  for (const k of Object.keys(o)) if (!allowed.has(k)) issues.add(path ? `${path}.${k}` : k, 'is not a known field');
}

function checkRepl(r: unknown, path: string, issues: Issues, keys: KeySets): void {
  if (!isObject(r)) return issues.add(path, 'must be an object');
  unknownKeys(r, keys.repl, path, issues);
  if (r['role'] !== 'master' && r['role'] !== 'replica') issues.add(`${path}.role`, 'must be master or replica');
  if (!isNum(r['offset'], 0, Number.MAX_SAFE_INTEGER)) issues.add(`${path}.offset`, 'must be a number >= 0');
  if (!isNum(r['ageMs'], 0, TEN_YEARS_MS)) issues.add(`${path}.ageMs`, 'must be a number >= 0');
  if (r['runId'] !== undefined && !isStr(r['runId'], 64)) issues.add(`${path}.runId`, 'must be a string of at most 64 characters');
  if (r['masterHost'] !== undefined && !isStr(r['masterHost'], 253)) issues.add(`${path}.masterHost`, 'must be a string of at most 253 characters');
  if (r['masterPort'] !== undefined && !isInt(r['masterPort'], 0, 65535)) issues.add(`${path}.masterPort`, 'must be an integer between 0 and 65535');
  if (r['linkUp'] !== undefined && typeof r['linkUp'] !== 'boolean') issues.add(`${path}.linkUp`, 'must be a boolean');
  if (r['linkDownSinceS'] !== undefined && !isNum(r['linkDownSinceS'], -1, TEN_YEARS_MS)) issues.add(`${path}.linkDownSinceS`, 'must be a number >= -1');
  if (r['lastIoS'] !== undefined && !isNum(r['lastIoS'], -1, TEN_YEARS_MS / 1000)) issues.add(`${path}.lastIoS`, 'must be a number of seconds >= -1');
  if (r['replicas'] !== undefined && !isInt(r['replicas'], 0, 1_000_000)) issues.add(`${path}.replicas`, 'must be an integer >= 0');
}

function checkNode(n: unknown, path: string, issues: Issues, keys: KeySets): void {
  if (!isObject(n)) return issues.add(path, 'must be an object');
  unknownKeys(n, keys.node, path, issues);
  if (typeof n['id'] !== 'string' || !UUID.test(n['id'])) issues.add(`${path}.id`, 'must be a node id (UUID)');
  if (typeof n['st'] !== 'string' || !STATUSES.has(n['st'])) issues.add(`${path}.st`, `must be one of ${PROBE_STATUSES.join(', ')}`);
  if (!isNum(n['ago'], 0, TEN_YEARS_MS)) issues.add(`${path}.ago`, 'must be a number of milliseconds >= 0');
  if (n['lat'] !== undefined && !isNum(n['lat'], 0, 3_600_000)) issues.add(`${path}.lat`, 'must be a number of milliseconds >= 0');
  if (n['err'] !== undefined && !isStr(n['err'], 500)) issues.add(`${path}.err`, 'must be a string of at most 500 characters');
  if (n['repl'] !== undefined) checkRepl(n['repl'], `${path}.repl`, issues, keys);
}

export type ReportCheck = { report: AgentReport; issues?: undefined } | { report?: undefined; issues: FieldIssue[] };

/**
 * A validator accepting the baseline report plus the optional fields `accepted` (the ones the controller
 * advertises in its answers); any other key is still refused as unknown.
 */
export function reportValidator(accepted: readonly OptionalReportField[]): (body: unknown) => ReportCheck {
  const keys = keySets(accepted);
  return (body) => check(body, keys);
}

const everyField = reportValidator(OPTIONAL_REPORT_FIELDS);

/** Returns the report typed, or the issues that make it unacceptable (every optional field accepted). */
export function validateReport(body: unknown): ReportCheck {
  return everyField(body);
}

function check(body: unknown, keys: KeySets): ReportCheck {
  const issues = new Issues();
  if (!isObject(body)) return { issues: [{ field: 'body', reason: 'must be a JSON object' }] };
  unknownKeys(body, keys.report, '', issues);
  if (!isInt(body['seq'], 0, Number.MAX_SAFE_INTEGER)) issues.add('seq', 'must be an integer >= 0');
  if (typeof body['assignment'] !== 'string' || body['assignment'].length > 64) issues.add('assignment', 'must be a string of at most 64 characters');
  if (!isInt(body['intervalMs'], 10, 60_000)) issues.add('intervalMs', 'must be an integer between 10 and 60000');
  if (body['lagMs'] !== undefined && !isNum(body['lagMs'], 0, TEN_YEARS_MS)) issues.add('lagMs', 'must be a number of milliseconds >= 0');
  const nodes = body['nodes'];
  if (!Array.isArray(nodes)) {
    issues.add('nodes', 'must be an array');
  } else if (nodes.length > MAX_REPORT_NODES) {
    issues.add('nodes', `must hold at most ${MAX_REPORT_NODES} entries`);
  } else {
    const seen = new Set<string>();
    for (let i = 0; i < nodes.length && !issues.full; i++) {
      checkNode(nodes[i], `nodes[${i}]`, issues, keys);
      const id = (nodes[i] as { id?: unknown } | null)?.id;
      if (typeof id === 'string') {
        if (seen.has(id)) issues.add(`nodes[${i}].id`, 'appears twice in the report');
        seen.add(id);
      }
    }
  }
  if (issues.list.length > 0) return { issues: issues.list };
  return { report: body as unknown as AgentReport };
}
