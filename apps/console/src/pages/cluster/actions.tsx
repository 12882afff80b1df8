import { type FormEvent, useState } from 'react';
import { api, type Schemas, unwrap } from '../../api/client';
import { useLive } from '../../api/live';
import { keys, queryClient } from '../../api/queries';
import { Badge, Dialog, ErrorNote } from '../../components/ui';
import { fmtMs, fmtNumber, fmtTime } from '../../lib/format';
import { needs } from '../../lib/roles';

type Cluster = Schemas['ClusterDto'];
type Action = 'switchover' | 'failover' | 'maintenance' | null;

const params = (name: string) => ({ path: { name } });
/** A fresh key per action (randomUUID needs a secure context; plain HTTP on a LAN address has none). */
function idempotency() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return { 'Idempotency-Key': Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('') };
}

/**
 * Guarded actions. Every one sends the epoch the operator was looking at (`expectedEpoch`), so an
 * action decided on a stale page is refused by the API instead of acting on a cluster that moved.
 */
export function Actions({ cluster, role }: { cluster: Cluster; role: string }) {
  const [open, setOpen] = useState<Action>(null);
  const denied = needs(role, 'operator');
  const inMaintenance = !!cluster.maintenanceUntil && Date.parse(cluster.maintenanceUntil) > Date.now();
  return (
    <div className="actions" role="group" aria-label="Actions">
      <button type="button" disabled={!!denied} title={denied ?? undefined} onClick={() => setOpen('switchover')}>
        Switchover…
      </button>
      <button type="button" className="danger" disabled={!!denied} title={denied ?? undefined} onClick={() => setOpen('failover')}>
        Forced failover…
      </button>
      <button type="button" disabled={!!denied} title={denied ?? undefined} onClick={() => setOpen('maintenance')}>
        {inMaintenance ? 'Maintenance…' : 'Start maintenance…'}
      </button>
      {denied && <span className="small muted">{denied}</span>}
      <Dialog open={open === 'switchover'} title={`Switchover of ${cluster.name}`} onClose={() => setOpen(null)}>
        <SwitchoverForm cluster={cluster} forced={false} />
      </Dialog>
      <Dialog open={open === 'failover'} title={`Forced failover of ${cluster.name}`} onClose={() => setOpen(null)}>
        <SwitchoverForm cluster={cluster} forced />
      </Dialog>
      <Dialog open={open === 'maintenance'} title={`Maintenance of ${cluster.name}`} onClose={() => setOpen(null)}>
        <MaintenanceForm cluster={cluster} inMaintenance={inMaintenance} />
      </Dialog>
    </div>
  );
}

function refresh(name: string) {
  void queryClient.invalidateQueries({ queryKey: keys.cluster(name) });
  void queryClient.invalidateQueries({ queryKey: keys.overview });
}

/** Switchover (lossless, planned) or forced failover: pick from the dry-run ranking, then confirm. */
function SwitchoverForm({ cluster, forced }: { cluster: Cluster; forced: boolean }) {
  const [ranking, setRanking] = useState<Schemas['DryRunDto'] | null>(null);
  const [target, setTarget] = useState('');
  const [typed, setTyped] = useState('');
  const [ignoreMaintenance, setIgnoreMaintenance] = useState(false);
  const [state, setState] = useState<'idle' | 'loading' | 'running'>('idle');
  const [error, setError] = useState<unknown>(null);
  const [outcome, setOutcome] = useState<Schemas['FailoverDetailDto'] | null>(null);
  const [startedAt] = useState(() => new Date().toISOString());
  const live = useLive();
  const inMaintenance = !!cluster.maintenanceUntil && Date.parse(cluster.maintenanceUntil) > Date.now();

  async function loadRanking() {
    setState('loading');
    setError(null);
    try {
      const dry = unwrap(
        await api.POST('/api/v1/clusters/{name}/failover', {
          params: { ...params(cluster.name), query: { dryRun: true } },
          body: { ignoreMaintenance: false },
        }),
      );
      setRanking(dry as Schemas['DryRunDto']);
      setTarget((dry as Schemas['DryRunDto']).candidates[0] ? address((dry as Schemas['DryRunDto']).candidates[0]!) : '');
    } catch (err) {
      setError(err);
    } finally {
      setState('idle');
    }
  }

  async function submit(e: FormEvent) {
    e.preventDefault();
    setState('running');
    setError(null);
    // The epoch the ranking was made at: if the cluster moved since, the API refuses rather than act on an old plan.
    const body = { target: target || undefined, expectedEpoch: ranking!.epoch, ignoreMaintenance };
    try {
      const answer = forced
        ? await api.POST('/api/v1/clusters/{name}/failover', { params: params(cluster.name), body, headers: idempotency() })
        : await api.POST('/api/v1/clusters/{name}/switchover', { params: params(cluster.name), body, headers: idempotency() });
      setOutcome(unwrap(answer) as Schemas['FailoverDetailDto']);
    } catch (err) {
      setError(err);
    } finally {
      setState('idle');
      refresh(cluster.name);
    }
  }

  if (outcome) return <Outcome record={outcome} />;
  if (!ranking)
    return (
      <div>
        <p>
          {forced
            ? 'A forced failover promotes a replica now, whether or not the master is down. Writes the replica has not received are lost.'
            : 'A switchover hands the master role to a replica with Redis FAILOVER: writes pause, the replica catches up, then takes over. Nothing acknowledged is lost; if the replica cannot catch up in time, the master stays.'}
        </p>
        <button type="button" onClick={() => void loadRanking()} disabled={state === 'loading'}>
          {state === 'loading' ? 'Ranking replicas…' : 'Rank the replicas (dry run)'}
        </button>
        <ErrorNote error={error} />
      </div>
    );
  const confirmed = !forced || typed === cluster.name;
  const progress = live.recent.filter((ev) => ev.cluster === cluster.name && ev.at >= startedAt).reverse();
  return (
    <form onSubmit={submit}>
      {ranking.evidence && <p className="small">Master’s own evidence: {ranking.evidence.summary}</p>}
      <fieldset>
        <legend>Promote</legend>
        {ranking.candidates.length === 0 && <p className="error-note">No replica can be promoted safely.</p>}
        {ranking.candidates.map((c, i) => (
          <label key={c.id} className="choice">
            <input type="radio" name="target" value={address(c)} checked={target === address(c)} onChange={() => setTarget(address(c))} />
            <span className="mono">{address(c)}</span> {i === 0 && <Badge tone="ok">best</Badge>} priority {c.priority ?? '–'}, offset {fmtNumber(c.offset)}
          </label>
        ))}
      </fieldset>
      {ranking.excluded.length > 0 && (
        <>
          <p className="small">Not eligible:</p>
          <ul className="small">
            {ranking.excluded.map((c) => (
              <li key={c.id}>
                <span className="mono">{address(c)}</span>: {c.reason ?? c.code}
              </li>
            ))}
          </ul>
        </>
      )}
      {inMaintenance && (
        <label className="choice">
          <input type="checkbox" checked={ignoreMaintenance} onChange={(e) => setIgnoreMaintenance(e.target.checked)} /> The cluster is in maintenance: act
          anyway
        </label>
      )}
      {forced && (
        <p>
          <label htmlFor="confirm-name">Type the cluster name, {cluster.name}, to confirm</label>
          <input id="confirm-name" autoComplete="off" value={typed} onChange={(e) => setTyped(e.target.value)} />
        </p>
      )}
      <p className="small muted">Refused if the cluster has moved past epoch {ranking.epoch} meanwhile.</p>
      <button type="submit" className={forced ? 'danger' : undefined} disabled={state === 'running' || !confirmed || ranking.candidates.length === 0}>
        {state === 'running' ? 'In progress…' : forced ? 'Fail over now' : 'Switch over'}
      </button>
      {state === 'running' && (
        <ol className="progress small" aria-live="polite" data-testid="action-progress">
          {progress.map((ev) => (
            <li key={ev.id}>
              {fmtTime(ev.at)} {ev.type}
            </li>
          ))}
        </ol>
      )}
      <ErrorNote error={error} />
    </form>
  );
}

function address(c: { host: string; port: number }): string {
  return `${c.host}:${c.port}`;
}

function Outcome({ record }: { record: Schemas['FailoverDetailDto'] }) {
  const ok = record.outcome === 'succeeded';
  return (
    <div role="status" data-testid="action-outcome">
      <p>
        <Badge tone={ok ? 'ok' : 'bad'} mark={ok ? '✓' : '✕'}>
          {record.outcome}
        </Badge>{' '}
        {ok ? `${record.to} is the master at epoch ${record.epoch}` : `the master stays ${record.from}`}
        {record.durationMs !== null && record.durationMs !== undefined && ` (${fmtMs(record.durationMs)})`}.
      </p>
      {record.error && <p className="error-note">{record.error}</p>}
      <ol className="small">
        {record.steps.map((s) => (
          <li key={s.seq}>
            {s.name} {s.status} (+{s.sincePreviousMs} ms)
          </li>
        ))}
      </ol>
    </div>
  );
}

const DURATIONS = [
  { label: '30 minutes', ms: 30 * 60_000 },
  { label: '1 hour', ms: 3_600_000 },
  { label: '4 hours', ms: 4 * 3_600_000 },
  { label: '1 day', ms: 86_400_000 },
];

function MaintenanceForm({ cluster, inMaintenance }: { cluster: Cluster; inMaintenance: boolean }) {
  const [duration, setDuration] = useState(String(DURATIONS[1]!.ms));
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);

  async function start(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const until = new Date(Date.now() + Number(duration)).toISOString();
      const answer = await api.PUT('/api/v1/clusters/{name}/maintenance', {
        params: params(cluster.name),
        body: { until, reason: reason || undefined, expectedEpoch: cluster.epoch },
        headers: idempotency(),
      });
      const after = unwrap(answer);
      setDone(`Maintenance until ${fmtTime(after.maintenanceUntil)}: no automatic failover until then.`);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
      refresh(cluster.name);
    }
  }

  async function end() {
    setBusy(true);
    setError(null);
    try {
      unwrap(await api.DELETE('/api/v1/clusters/{name}/maintenance', { params: params(cluster.name), headers: idempotency() }));
      setDone('Maintenance ended: automatic failover applies again.');
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
      refresh(cluster.name);
    }
  }

  if (done)
    return (
      <p role="status" data-testid="action-outcome">
        <span aria-hidden="true">✓ </span>
        {done}
      </p>
    );
  return (
    <>
      {inMaintenance && (
        <p>
          In maintenance until {fmtTime(cluster.maintenanceUntil)}.{' '}
          <button type="button" onClick={() => void end()} disabled={busy}>
            End maintenance now
          </button>
        </p>
      )}
      <form onSubmit={start}>
        <p>While in maintenance, Vigil fails nothing over automatically; it still watches and records what it would have done.</p>
        <p>
          <label htmlFor="m-duration">Duration </label>
          <select id="m-duration" value={duration} onChange={(e) => setDuration(e.target.value)}>
            {DURATIONS.map((d) => (
              <option key={d.ms} value={d.ms}>
                {d.label}
              </option>
            ))}
          </select>
        </p>
        <p>
          <label htmlFor="m-reason">Reason </label>
          <input id="m-reason" maxLength={500} value={reason} onChange={(e) => setReason(e.target.value)} placeholder="e.g. kernel upgrade on zone b" />
        </p>
        <button type="submit" disabled={busy}>
          {inMaintenance ? 'Extend maintenance' : 'Start maintenance'}
        </button>
      </form>
      <ErrorNote error={error} />
    </>
  );
}
