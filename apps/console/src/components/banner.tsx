import { useLive } from '../api/live';
import { useOverview } from '../api/queries';
import { clusterHref } from '../lib/router';
import { fmtAgo } from '../lib/format';

const SHOWN = 5;
const ANNOUNCED = new Set([
  'node.odown',
  'failover.started',
  'failover.succeeded',
  'failover.failed',
  'failover.aborted',
  'failover.refused',
  'master.changed',
]);

/**
 * On every page: what is in progress or refused anywhere, and whether the live stream holds. An
 * operator never has to visit a cluster to learn that Vigil is acting, or refusing to.
 */
export function Banner() {
  const { state, recent, position } = useLive();
  const overview = useOverview();
  const items = overview.data?.items ?? [];
  const acting = items.filter((c) => c.failoverInProgress);
  const attention = items.filter((c) => !c.failoverInProgress && (c.health === 'master-down' || c.health === 'cannot-decide' || c.lastRefusal));
  // Only what an on-call engineer must hear is announced; the rest is on screen.
  const latest = recent.find((e) => ANNOUNCED.has(e.type));
  return (
    <div className="banners" data-stream-position={position ?? ''}>
      {state === 'lost' && (
        <div className="banner tone-bad" role="alert">
          <span aria-hidden="true">⚠ </span>Live updates lost: reconnecting. What you see may be out of date; it is read again as soon as the stream returns.
        </div>
      )}
      {acting.length > 0 && (
        <div className="banner tone-info" role="status" data-testid="banner-acting">
          <span aria-hidden="true">⟳ </span>
          <strong>In progress:</strong>{' '}
          {acting.slice(0, SHOWN).map((c, i) => (
            <span key={c.name}>
              {i > 0 && ', '}
              <a href={clusterHref(c.name)}>{c.name}</a> {c.failoverInProgress!.state} (started {fmtAgo(c.failoverInProgress!.startedAt)})
            </span>
          ))}
          {acting.length > SHOWN && ` and ${acting.length - SHOWN} more`}
        </div>
      )}
      {attention.length > 0 && (
        <div className="banner tone-bad" role="status" data-testid="banner-refused">
          <span aria-hidden="true">✕ </span>
          <strong>Needs attention:</strong>{' '}
          {attention.slice(0, SHOWN).map((c, i) => (
            <span key={c.name}>
              {i > 0 && '; '}
              <a href={clusterHref(c.name)}>{c.name}</a>:{' '}
              {c.lastRefusal ? `failover refused (${c.lastRefusal.code}) — ${c.lastRefusal.reason}` : c.reasons.join(', ')}
            </span>
          ))}
          {attention.length > SHOWN && `; and ${attention.length - SHOWN} more`}
        </div>
      )}
      <div className="sr-only" aria-live="polite">
        {latest ? `${latest.type}${latest.cluster ? ` on ${latest.cluster}` : ''}` : ''}
      </div>
    </div>
  );
}
