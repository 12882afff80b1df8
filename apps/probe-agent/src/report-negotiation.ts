import { type AgentReport, knownReportFields, type OptionalReportField, reportWithFields } from '../../../libs/contracts/src/index.js';

/*
 * Report fields negotiated per controller. A controller refuses a report holding a field it does not know,
 * so mixed releases work in either order only if each controller gets the fields it accepts: it lists them
 * in every report answer (`reportFields`); one that lists none (a release before the negotiation) gets the
 * baseline report. A link starts at the baseline, follows each answer, and drops back to the baseline on
 * a 400 (the controller at that address may have been replaced by an older one).
 */

/**
 * Serializes `report` once per set of accepted fields among `links` (usually one set for all of them):
 * link i sends `json[i]`.
 */
export function reportBodies(report: AgentReport, links: readonly { fields: ReadonlySet<OptionalReportField> }[]): string[] {
  const byFields = new Map<string, string>();
  return links.map((link) => {
    const key = [...link.fields].sort().join(',');
    let json = byFields.get(key);
    if (json === undefined) {
      json = JSON.stringify(reportWithFields(report, link.fields));
      byFields.set(key, json);
    }
    return json;
  });
}

/** What a report answer (or its absence after a refusal) leaves a link accepting. */
export function fieldsAfter(
  current: ReadonlySet<OptionalReportField>,
  outcome: { accepted: { reportFields?: unknown } } | { refusedStatus: number },
): ReadonlySet<OptionalReportField> {
  if ('accepted' in outcome) {
    const next = knownReportFields(outcome.accepted.reportFields);
    return next.length === current.size && next.every((f) => current.has(f)) ? current : new Set(next);
  }
  return outcome.refusedStatus === 400 && current.size > 0 ? new Set() : current;
}
