import type { AgentReport, NodeObservation } from './agent-api.js';

/**
 * Report fields added after the baseline report — the one release 0.1.0 (61af498) sends and every
 * controller accepts. A controller refuses a report holding a field it does not know (400, whole), so an
 * agent sends one of these to a controller only after that controller listed it in a report answer
 * (`AgentReportAccepted.reportFields`); a controller that lists nothing gets the baseline. Names are
 * `<where>.<key>`: `report.` the top level, `node.` an entry of `nodes`, `repl.` a node's `repl`.
 * Append only: a name, once released, keeps its meaning.
 */
export const OPTIONAL_REPORT_FIELDS = ['repl.lastIoS'] as const;
export type OptionalReportField = (typeof OPTIONAL_REPORT_FIELDS)[number];

const KNOWN = new Set<string>(OPTIONAL_REPORT_FIELDS);

export function isOptionalReportField(name: unknown): name is OptionalReportField {
  return typeof name === 'string' && KNOWN.has(name);
}

/** The fields of `advertised` (a controller's answer, any shape) that this build knows; anything else is ignored. */
export function knownReportFields(advertised: unknown): OptionalReportField[] {
  return Array.isArray(advertised) ? [...new Set(advertised.filter(isOptionalReportField))].sort() : [];
}

/** Keys an optional field adds at one level of the report (`report`, `node` or `repl`). */
export function optionalKeysAt(level: 'report' | 'node' | 'repl', accepted: Iterable<OptionalReportField>): string[] {
  const prefix = `${level}.`;
  return [...accepted].filter((f) => f.startsWith(prefix)).map((f) => f.slice(prefix.length));
}

/**
 * `report` as a controller accepting only `accepted` may receive it: every optional field it did not list is
 * left out. Returns `report` itself when nothing has to go; only the entries that change are copied.
 */
export function reportWithFields(report: AgentReport, accepted: ReadonlySet<OptionalReportField>): AgentReport {
  const missing = OPTIONAL_REPORT_FIELDS.filter((f) => !accepted.has(f));
  const dropReport = optionalKeysAt('report', missing);
  const dropNode = optionalKeysAt('node', missing);
  const dropRepl = optionalKeysAt('repl', missing);
  if (dropRepl.length + dropNode.length + dropReport.length === 0) return report;
  const has = (o: object, keys: string[]) => keys.some((k) => Object.hasOwn(o, k));
  const without = <T extends object>(o: T, keys: string[]): T => {
    const copy = { ...o } as Record<string, unknown>;
    for (const k of keys) delete copy[k];
    return copy as T;
  };
  let changed = has(report, dropReport);
  const nodes = report.nodes.map((n): NodeObservation => {
    const dropHere = has(n, dropNode);
    const replHere = n.repl !== undefined && has(n.repl, dropRepl);
    if (!dropHere && !replHere) return n;
    changed = true;
    const next = dropHere ? without(n, dropNode) : { ...n };
    if (replHere) next.repl = without(n.repl!, dropRepl);
    return next;
  });
  if (!changed) return report;
  return { ...without(report, dropReport), nodes };
}
