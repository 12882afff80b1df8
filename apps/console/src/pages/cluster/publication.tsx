import { usePublication } from '../../api/queries';
import { Badge, ErrorNote, Loading, TableBox } from '../../components/ui';
import { fmtTime } from '../../lib/format';

const CHANNEL: Record<string, string> = { rest: 'REST', sentinel: 'Sentinel endpoint', dns: 'DNS (built-in)', 'dns-update': 'DNS (RFC 2136 push)' };

/** What each channel tells clients right now, and whether they all say the same. */
export function Publication({ name }: { name: string }) {
  const pub = usePublication(name);
  if (pub.isPending) return <Loading what="publication" />;
  if (pub.isError) return <ErrorNote error={pub.error} />;
  const p = pub.data;
  return (
    <div data-testid="publication">
      <p>
        {p.agree ? (
          <Badge tone="ok" mark="✓">
            All channels agree
          </Badge>
        ) : (
          <Badge tone="bad" mark="✕">
            Channels disagree
          </Badge>
        )}{' '}
        recorded master <span className="mono">{p.recorded ?? 'none'}</span> at epoch {p.epoch}
      </p>
      {p.disagreements.length > 0 && (
        <ul className="error-note" role="alert">
          {p.disagreements.map((d) => (
            <li key={d}>{d}</li>
          ))}
        </ul>
      )}
      <TableBox label="Publication channels">
        <table>
          <thead>
            <tr>
              <th scope="col">Channel</th>
              <th scope="col">Answers</th>
              <th scope="col">Agrees</th>
              <th scope="col">Detail</th>
            </tr>
          </thead>
          <tbody>
            {p.channels.map((c) => (
              <tr key={`${c.channel}-${c.target ?? ''}`}>
                <th scope="row">
                  {CHANNEL[c.channel] ?? c.channel}
                  {c.target && <div className="small mono">{c.target}</div>}
                </th>
                <td className="mono">
                  {c.answer ?? 'nothing'}
                  {c.ttl !== undefined && c.ttl !== null && <span className="small"> TTL {c.ttl} s</span>}
                  {c.stale && <span className="small"> (stale)</span>}
                </td>
                <td>
                  {c.agrees ? (
                    <Badge tone="ok" mark="✓">
                      yes
                    </Badge>
                  ) : (
                    <Badge tone="bad" mark="✕">
                      no
                    </Badge>
                  )}
                </td>
                <td className="small">{c.detail}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableBox>
      <p className="small">
        Last event: {p.lastEventId ?? 'none'} · last event of this cluster: {p.lastClusterEventId ?? 'none'}
      </p>
      {p.webhooks.length > 0 && (
        <ul className="small">
          {p.webhooks.map((w) => (
            <li key={w.id}>
              Webhook <span className="mono">{w.url}</span>:{' '}
              {w.lastDelivery
                ? `event ${w.lastDelivery.eventId} ${w.lastDelivery.status}${w.lastDelivery.httpStatus ? ` (HTTP ${w.lastDelivery.httpStatus})` : ''} at ${fmtTime(w.lastDelivery.at)}`
                : 'nothing delivered yet'}
              {w.failing && (
                <>
                  {' '}
                  <Badge tone="bad" mark="✕">
                    failing
                  </Badge>
                </>
              )}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
