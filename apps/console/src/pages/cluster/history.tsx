import { useState } from 'react';
import type { Schemas } from '../../api/client';
import { fetchEvents, useFailover } from '../../api/queries';
import { Badge, ErrorNote } from '../../components/ui';
import { fmtMs, fmtTime } from '../../lib/format';
import { download, incidentMarkdown } from '../../lib/incident';
import { phaseSpans } from './model';

const OUTCOME_TONE: Record<string, 'ok' | 'bad' | 'info' | 'warn'> = { succeeded: 'ok', failed: 'bad', aborted: 'bad', running: 'info' };

/** Failovers and switchovers, newest first; each opens to its phase bar and step log. */
export function History({ items }: { items: Schemas['FailoverDto'][] }) {
  const [open, setOpen] = useState<string | null>(null);
  if (items.length === 0) return <p className="muted">No failover or switchover yet.</p>;
  return (
    <ul className="history" data-testid="failover-history">
      {items.map((f) => (
        <li key={f.id}>
          <button type="button" className="row-button" aria-expanded={open === f.id} onClick={() => setOpen(open === f.id ? null : f.id)}>
            <Badge tone={OUTCOME_TONE[f.outcome] ?? 'muted'}>{f.outcome}</Badge> {f.trigger} · epoch {f.epoch} · {f.from ?? '?'} → {f.to ?? f.target ?? '?'} ·{' '}
            {fmtTime(f.startedAt)}
            {f.durationMs !== null && f.durationMs !== undefined && ` · ${fmtMs(f.durationMs)}`} · {f.state}
          </button>
          {open === f.id && <FailoverDetail id={f.id} />}
        </li>
      ))}
    </ul>
  );
}

function FailoverDetail({ id }: { id: string }) {
  const record = useFailover(id);
  const [exportError, setExportError] = useState<unknown>(null);
  if (record.isPending) return <p className="muted">Loading steps…</p>;
  if (record.isError) return <ErrorNote error={record.error} />;
  const f = record.data;
  const spans = phaseSpans(f.steps);
  const total = spans.reduce((sum, s) => sum + s.ms, 0) || 1;

  async function exportIncident() {
    setExportError(null);
    try {
      const start = new Date(Date.parse(f.steps[0]?.at ?? f.startedAt) - 60_000).toISOString();
      const end = new Date(Date.parse(f.finishedAt ?? new Date().toISOString()) + 60_000).toISOString();
      const page = await fetchEvents({ cluster: f.cluster, since: start, until: end }, 20);
      download(`incident-${f.cluster}-epoch-${f.epoch}.md`, incidentMarkdown(`${f.trigger} of ${f.cluster} to epoch ${f.epoch}`, page.items));
    } catch (err) {
      setExportError(err);
    }
  }

  return (
    <div className="failover-detail" data-testid="failover-detail">
      {spans.length > 0 && (
        <>
          <div className="phase-bar" role="img" aria-label={spans.map((s) => `${s.name} ${fmtMs(s.ms)}`).join(', ')}>
            {spans.map((s, i) => (
              <span key={s.name} className={`phase phase-${i}`} style={{ flexGrow: Math.max(s.ms / total, 0.04) }}>
                {s.name}
              </span>
            ))}
          </div>
          <ul className="phase-legend small">
            {spans.map((s, i) => (
              <li key={s.name}>
                <span className={`swatch phase-${i}`} aria-hidden="true" /> {s.name}: {fmtMs(s.ms)}
              </li>
            ))}
          </ul>
        </>
      )}
      {f.error && <p className="error-note">{f.error}</p>}
      <table className="steps">
        <thead>
          <tr>
            <th scope="col">Step</th>
            <th scope="col">Status</th>
            <th scope="col">At</th>
            <th scope="col" className="num">
              +ms
            </th>
            <th scope="col">Detail</th>
          </tr>
        </thead>
        <tbody>
          {f.steps.map((s) => (
            <tr key={s.seq}>
              <td>{s.name}</td>
              <td>{s.status}</td>
              <td>{fmtTime(s.at)}</td>
              <td className="num">{s.sincePreviousMs}</td>
              <td className="detail">{Object.keys(s.detail).length > 0 ? JSON.stringify(s.detail) : ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p>
        <button type="button" onClick={() => void exportIncident()}>
          Export incident as Markdown
        </button>
      </p>
      <ErrorNote error={exportError} />
    </div>
  );
}
