import { useState } from 'react';
import { useEvents } from '../api/queries';
import { ErrorNote, Loading, TableBox } from '../components/ui';
import { fmtTime } from '../lib/format';
import { download, incidentMarkdown } from '../lib/incident';
import { clusterHref, replaceQuery, useRoute } from '../lib/router';

function toIso(local: string): string | undefined {
  if (!local) return undefined;
  const t = Date.parse(local);
  return Number.isNaN(t) ? undefined : new Date(t).toISOString();
}

/** The audit log: every event, filtered by cluster, type and time; one incident exports as Markdown. */
export function EventsPage() {
  const route = useRoute();
  const filter = {
    cluster: route.query.get('cluster') ?? '',
    type: route.query.get('type') ?? '',
    since: route.query.get('since') ?? '',
    until: route.query.get('until') ?? '',
  };
  const [after, setAfter] = useState<string | undefined>(undefined);
  const set = (next: Partial<typeof filter>) => {
    setAfter(undefined);
    replaceQuery('/events', { ...filter, ...next });
  };
  const events = useEvents({
    cluster: filter.cluster || undefined,
    type: filter.type || undefined,
    since: toIso(filter.since) ?? new Date(Date.now() - 86_400_000).toISOString().slice(0, 13) + ':00:00.000Z',
    until: toIso(filter.until),
    after,
  });

  return (
    <>
      <h1>Events</h1>
      <form className="filters-form" onSubmit={(e) => e.preventDefault()}>
        <label>
          Cluster <input value={filter.cluster} onChange={(e) => set({ cluster: e.target.value })} />
        </label>
        <label>
          Type <input value={filter.type} placeholder="e.g. failover.refused" onChange={(e) => set({ type: e.target.value })} />
        </label>
        <label>
          From <input type="datetime-local" step="1" value={filter.since} onChange={(e) => set({ since: e.target.value })} />
        </label>
        <label>
          To <input type="datetime-local" step="1" value={filter.until} onChange={(e) => set({ until: e.target.value })} />
        </label>
      </form>
      <p className="muted small">Without a start time, the last 24 hours are shown, oldest first.</p>
      {events.isPending ? (
        <Loading what="events" />
      ) : events.isError ? (
        <ErrorNote error={events.error} />
      ) : (
        <>
          <p>
            {events.data.items.length} events{' '}
            <button
              type="button"
              disabled={events.data.items.length === 0}
              onClick={() =>
                download(
                  `incident${filter.cluster ? `-${filter.cluster}` : ''}.md`,
                  incidentMarkdown(`Incident${filter.cluster ? ` on ${filter.cluster}` : ''}`, events.data.items),
                )
              }
            >
              Export as Markdown timeline
            </button>{' '}
            {events.data.next && (
              <button type="button" onClick={() => setAfter(events.data.next ?? undefined)}>
                Next page
              </button>
            )}
          </p>
          <TableBox label="Events">
            <table data-testid="events">
              <thead>
                <tr>
                  <th scope="col">Time</th>
                  <th scope="col">Cluster</th>
                  <th scope="col">Type</th>
                  <th scope="col">Actor</th>
                  <th scope="col">Data</th>
                </tr>
              </thead>
              <tbody>
                {events.data.items.map((e) => (
                  <tr key={e.id}>
                    <td>
                      <time dateTime={e.at}>{fmtTime(e.at)}</time>
                    </td>
                    <td>{e.cluster ? <a href={clusterHref(e.cluster)}>{e.cluster}</a> : ''}</td>
                    <td>{e.type}</td>
                    <td className="small">{e.actor}</td>
                    <td className="detail small">{JSON.stringify(e.data)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableBox>
        </>
      )}
    </>
  );
}
