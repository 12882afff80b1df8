import type { Schemas } from '../../api/client';
import type { VigilEvent } from '../../api/event-stream';
import { Badge } from '../../components/ui';
import { fmtMs, fmtTime } from '../../lib/format';

type DecisionView = Schemas['DecisionViewDto'];

interface Vote {
  agent: string;
  zone: string;
  sdown: boolean;
  st: string;
  noReplyMs: number;
  err?: string;
}

/** The live answer to "would an automatic failover start now?", and the latest decision with its evidence. */
export function DecisionNow({ view }: { view: DecisionView }) {
  const d = view.decision;
  return (
    <>
      {view.now && (
        <div className="now" data-testid="would-fail-over">
          <p>
            <strong>Would it fail over now? </strong>
            <Badge tone={view.now.wouldFailOver ? 'bad' : 'ok'} mark={view.now.wouldFailOver ? '⟳' : '✓'}>
              {view.now.wouldFailOver ? 'Yes' : 'No'}
            </Badge>{' '}
            {view.now.reason}
          </p>
          <ul className="checks">
            {view.now.checks.map((c) => (
              <li key={c.name}>
                <span aria-hidden="true">{c.passed ? '✓' : '✕'} </span>
                <span className="sr-only">{c.passed ? 'passes' : 'blocks'}: </span>
                <strong>{c.name}</strong> — {c.detail}
              </li>
            ))}
          </ul>
        </div>
      )}
      {!view.leader && <p className="note">This controller replica is not the leader: only the leader decides, so no decision is shown here.</p>}
      {d && (
        <div className={`decision tone-${d.outcome === 'refused' ? 'bad' : 'info'}`} data-testid="latest-decision">
          <p>
            <strong>Latest decision ({fmtTime(d.at)}): </strong>
            {d.outcome === 'refused' ? `failover refused — ${d.code}` : 'failover started'}
            {d.reason && <>: {d.reason}</>}
          </p>
          {d.evidence && <Evidence evidence={d.evidence} />}
        </div>
      )}
      {view.faults.map((f) => (
        <p key={`${f.node}-${f.since}`} className="note tone-warn" role="note">
          <span aria-hidden="true">⚑ </span>
          {f.node} reports itself a replica of {f.follows}
          {f.otherMasters.length > 0 && ` (other masters: ${f.otherMasters.join(', ')})`} since {fmtTime(f.since)}. {f.repair}
        </p>
      ))}
    </>
  );
}

function Evidence({ evidence }: { evidence: Record<string, unknown> }) {
  const master = evidence['master'] as
    { summary?: string; replicas?: { replica: string; saysAlive: boolean; linkUp?: boolean; lastIoS?: number; error?: string }[] } | undefined;
  const excluded = evidence['excluded'] as { host?: string; port?: number; reason?: string; code?: string }[] | undefined;
  return (
    <div className="small">
      {master?.summary && <p>Master’s own evidence: {master.summary}</p>}
      {master?.replicas && master.replicas.length > 0 && (
        <ul>
          {master.replicas.map((r) => (
            <li key={r.replica}>
              {r.replica}: {r.saysAlive ? 'says the master is alive' : 'does not vouch for the master'}
              {r.linkUp !== undefined && ` (link ${r.linkUp ? 'up' : 'down'}${r.lastIoS !== undefined ? `, last I/O ${r.lastIoS} s ago` : ''})`}
              {r.error && ` — ${r.error}`}
            </li>
          ))}
        </ul>
      )}
      {excluded && excluded.length > 0 && <p>Excluded: {excluded.map((e) => `${e.host}:${e.port} (${e.code ?? e.reason})`).join(', ')}</p>}
      <details>
        <summary>All evidence (JSON)</summary>
        <pre>{JSON.stringify(evidence, null, 2)}</pre>
      </details>
    </div>
  );
}

/** Event types the decision timeline shows: detection, decisions, actions and their outcomes. */
export const TIMELINE_TYPES = new Set([
  'node.sdown',
  'node.odown',
  'node.up',
  'node.config_fault',
  'failover.started',
  'failover.refused',
  'failover.succeeded',
  'failover.failed',
  'failover.aborted',
  'master.changed',
  'operator.refused',
  'cluster.maintenance_started',
  'cluster.maintenance_ended',
  'node.demoted',
  'node.repointed',
]);

const TONE: Record<string, 'ok' | 'warn' | 'bad' | 'info' | 'muted'> = {
  'node.up': 'ok',
  'node.sdown': 'warn',
  'node.odown': 'bad',
  'node.config_fault': 'bad',
  'failover.started': 'info',
  'failover.refused': 'bad',
  'failover.succeeded': 'ok',
  'failover.failed': 'bad',
  'failover.aborted': 'bad',
  'master.changed': 'info',
  'operator.refused': 'warn',
};

/** One line per event; an ODOWN shows every agent's vote against the quorum and the majority needed. */
export function Timeline({ events }: { events: VigilEvent[] }) {
  const shown = events.filter((e) => TIMELINE_TYPES.has(e.type)).reverse();
  if (shown.length === 0) return <p className="muted">No detection or failover events in the last 24 hours.</p>;
  return (
    <div className="timeline-box" role="region" aria-label="Decision timeline" tabIndex={0}>
      <ol className="timeline" data-testid="timeline">
        {shown.map((e) => (
          <li key={e.id} className={`tone-${TONE[e.type] ?? 'muted'}`}>
            <div>
              <time dateTime={e.at}>{fmtTime(e.at)}</time> <strong>{e.type}</strong> <span className="muted small">{e.actor}</span>
            </div>
            <TimelineDetail event={e} />
          </li>
        ))}
      </ol>
    </div>
  );
}

function TimelineDetail({ event }: { event: VigilEvent }) {
  const d = (event.data ?? {}) as Record<string, unknown>;
  if (event.type.startsWith('node.') && Array.isArray(d['votes'])) {
    const node = d['node'] as { host: string; port: number } | undefined;
    const votes = d['votes'] as Vote[];
    return (
      <div className="small">
        {node && `${node.host}:${node.port}: `}
        {String(d['from'])} → {String(d['to'])}; {String(d['sdownVotes'])} of {String(d['voters'])} voting agents see it down (quorum {String(d['quorum'])},
        majority of {String(d['assigned'])} assigned needs {String(d['needed'])})
        {typeof d['detectionLatencyMs'] === 'number' && `; detected in ${fmtMs(d['detectionLatencyMs'])}`}
        <ul className="votes">
          {votes.map((v) => (
            <li key={v.agent} className={v.sdown ? 'vote-down' : 'vote-up'}>
              <span aria-hidden="true">{v.sdown ? '✕' : '✓'} </span>
              {v.agent} ({v.zone}): {v.sdown ? 'sees it down' : `does not see it down (last probe ${v.st})`}, no reply for {fmtMs(v.noReplyMs)}
              {v.err && ` — ${v.err}`}
            </li>
          ))}
        </ul>
      </div>
    );
  }
  const parts: string[] = [];
  for (const key of ['code', 'reason', 'trigger', 'from', 'to', 'target', 'epoch', 'error', 'until', 'action', 'via', 'node', 'master']) {
    const value = d[key];
    if (value !== undefined && value !== null && typeof value !== 'object') parts.push(`${key} ${String(value)}`);
  }
  return parts.length > 0 ? <div className="small">{parts.join(' · ')}</div> : null;
}
