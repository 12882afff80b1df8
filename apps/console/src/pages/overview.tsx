import { useDeferredValue, useMemo } from 'react';
import { useOverview } from '../api/queries';
import { ErrorNote, HEALTH, HealthBadge, Loading, TableBox } from '../components/ui';
import { fmtAgo, fmtBytes, fmtNumber } from '../lib/format';
import { clusterHref, replaceQuery, useRoute } from '../lib/router';

/** Problems first, then by name: the cluster needing help is at the top. */
const ORDER = ['failing-over', 'master-down', 'cannot-decide', 'master-unreachable', 'degraded', 'maintenance', 'ok'];

export function OverviewPage() {
  const route = useRoute();
  const q = route.query.get('q') ?? '';
  const health = route.query.get('health') ?? '';
  const deferredQ = useDeferredValue(q);
  const overview = useOverview();
  const setFilter = (next: { q?: string; health?: string }) => replaceQuery('/', { q, health, ...next });

  const rows = useMemo(() => {
    const items = overview.data?.items ?? [];
    const needle = deferredQ.trim().toLowerCase();
    return items
      .filter((c) => (!health || c.health === health) && (!needle || c.name.toLowerCase().includes(needle) || (c.master ?? '').includes(needle)))
      .sort((a, b) => ORDER.indexOf(a.health) - ORDER.indexOf(b.health) || a.name.localeCompare(b.name));
  }, [overview.data, deferredQ, health]);

  if (overview.isPending) return <Loading what="clusters" />;
  if (overview.isError) return <ErrorNote error={overview.error} />;
  const counts = overview.data.counts as Record<string, number>;
  const total = overview.data.items.length;

  return (
    <>
      <h1>Clusters</h1>
      {!overview.data.leader && (
        <p className="note">
          <span aria-hidden="true">ℹ </span>This controller replica is a standby: decisions shown are the leader’s as far as this replica knows.
        </p>
      )}
      <div className="filters" role="group" aria-label="Filter by health">
        <button type="button" aria-pressed={!health} onClick={() => setFilter({ health: '' })}>
          All <span className="count">{fmtNumber(total)}</span>
        </button>
        {ORDER.filter((h) => counts[h]).map((h) => (
          <button key={h} type="button" aria-pressed={health === h} onClick={() => setFilter({ health: health === h ? '' : h })}>
            <span aria-hidden="true">{HEALTH[h]?.mark} </span>
            {HEALTH[h]?.text ?? h} <span className="count">{fmtNumber(counts[h])}</span>
          </button>
        ))}
      </div>
      <p>
        <label htmlFor="search">Search clusters </label>
        <input id="search" type="search" value={q} placeholder="name or master address" onChange={(e) => setFilter({ q: e.target.value })} />
      </p>
      <p className="muted" role="status">
        {rows.length === total ? `${fmtNumber(total)} clusters` : `${fmtNumber(rows.length)} of ${fmtNumber(total)} clusters`}
      </p>
      <TableBox label="Clusters">
        <table className="clusters">
          <thead>
            <tr>
              <th scope="col">Cluster</th>
              <th scope="col">Health</th>
              <th scope="col">Master</th>
              <th scope="col" className="num">
                Epoch
              </th>
              <th scope="col" className="num">
                Replicas up
              </th>
              <th scope="col" className="num">
                Worst lag
              </th>
              <th scope="col">Last failover</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((c) => (
              <tr key={c.name}>
                <th scope="row">
                  <a href={clusterHref(c.name)}>{c.name}</a>
                </th>
                <td>
                  <HealthBadge health={c.health} />
                  {c.reasons.length > 0 && c.health !== 'ok' && <div className="small muted">{c.reasons.join('; ')}</div>}
                </td>
                <td className="mono">{c.master ?? <span className="muted">none recorded</span>}</td>
                <td className="num">{c.epoch}</td>
                <td className="num">
                  {c.replicasUp}/{c.replicasTotal}
                </td>
                <td className="num">
                  {fmtBytes(c.worstLagBytes)}
                  {c.worstLagS !== null && c.worstLagS !== undefined && <div className="small muted">last I/O {c.worstLagS} s ago</div>}
                </td>
                <td>
                  {c.lastFailover ? (
                    `${fmtAgo(c.lastFailover.at)} · ${c.lastFailover.trigger} · ${c.lastFailover.outcome}`
                  ) : (
                    <span className="muted">never</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableBox>
    </>
  );
}
