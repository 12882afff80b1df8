import type { Schemas } from '../../api/client';
import { Badge, TableBox, ZoneLegend, ZoneTag } from '../../components/ui';
import { fmtAgo, fmtBytes, fmtMs, fmtNumber } from '../../lib/format';
import { topology, type TopologyNode } from './model';

const STATE: Record<string, { mark: string; tone: 'ok' | 'warn' | 'bad' | 'muted' }> = {
  up: { mark: '✓', tone: 'ok' },
  sdown: { mark: '▲', tone: 'warn' },
  odown: { mark: '✕', tone: 'bad' },
  'config-fault': { mark: '!', tone: 'bad' },
  unknown: { mark: '?', tone: 'muted' },
};

function StateBadge({ state }: { state: string }) {
  const s = STATE[state] ?? STATE['unknown']!;
  return (
    <Badge tone={s.tone} mark={s.mark}>
      {state}
    </Badge>
  );
}

function NodeCard({ node, zones, master }: { node: TopologyNode; zones: string[]; master: boolean }) {
  const r = node.reading;
  return (
    <li className={`node-card${master ? ' is-master' : ''}`} data-testid={master ? 'topology-master' : 'topology-replica'}>
      <div className="node-head">
        <span className="mono strong">{node.address}</span>
        <span className="role">{master ? 'master' : node.role}</span>
        <StateBadge state={node.state} />
      </div>
      <dl className="facts">
        <div>
          <dt>Zone</dt>
          <dd>
            <ZoneTag zone={node.zone} zones={zones} />
          </dd>
        </div>
        <div>
          <dt>Priority</dt>
          <dd>{node.priority}</dd>
        </div>
        <div>
          <dt>Offset</dt>
          <dd className="mono">{r ? fmtNumber(r.offset) : '–'}</dd>
        </div>
        {!master && (
          <div>
            <dt>Lag</dt>
            <dd>
              {fmtBytes(node.lagBytes)}
              {node.lagS !== null && ` · ${node.lagS} s since last I/O`}
            </dd>
          </div>
        )}
        {master && r?.replicas !== undefined && (
          <div>
            <dt>Replicas connected</dt>
            <dd>{r.replicas}</dd>
          </div>
        )}
        <div>
          <dt>Read</dt>
          <dd>{r ? fmtAgo(r.readAt) : 'no reading'}</dd>
        </div>
      </dl>
      {node.flags.length > 0 && (
        <ul className="flags">
          {node.flags.map((f) => (
            <li key={f}>
              <span aria-hidden="true">⚑ </span>
              {f}
            </li>
          ))}
        </ul>
      )}
    </li>
  );
}

/** Master above, its replicas below it, each with lag in bytes and seconds, offsets, priority and zone. */
export function Topology({ cluster, health }: { cluster: Schemas['ClusterDto']; health: Schemas['ClusterHealthDto'] | undefined }) {
  const { master, others, zones } = topology(cluster, health);
  return (
    <>
      <ZoneLegend zones={zones} />
      {master ? (
        <ul className="tree" aria-label="Master">
          <NodeCard node={master} zones={zones} master />
        </ul>
      ) : (
        <p className="note">No master recorded.</p>
      )}
      <ul className="tree replicas" aria-label={`Replicas of ${master?.address ?? 'no master'}`}>
        {others.map((n) => (
          <NodeCard key={n.id} node={n} zones={zones} master={false} />
        ))}
      </ul>
    </>
  );
}

/**
 * Rows are agents, columns nodes: each cell is that agent's last result for that node, its latency and
 * how long it has gone without a valid reply. A partition shows as a block of failing cells.
 */
export function AgentMatrix({ health, zones }: { health: Schemas['ClusterHealthDto']; zones: string[] }) {
  const agents = [...new Map(health.nodes.flatMap((n) => n.agents.map((a) => [a.name, a.zone] as const))).entries()].sort(
    (a, b) => a[1].localeCompare(b[1]) || a[0].localeCompare(b[0]),
  );
  return (
    <>
      <p className="muted small">
        Quorum {health.quorum} · down-after {fmtMs(health.downAfterMs)} · {health.usableAgents} of {health.assignedAgents} assigned agents can vote
        {!health.canDecide && <strong> · cannot decide: {health.cannotDecideReason}</strong>}
      </p>
      <TableBox label="Agent by node matrix">
        <table className="matrix" data-testid="agent-matrix">
          <thead>
            <tr>
              <th scope="col">Agent</th>
              {health.nodes.map((n) => (
                <th scope="col" key={n.id} className="mono">
                  {n.host}:{n.port}
                  <div className="small muted">
                    {n.role} · {n.sdownVotes}/{n.voters} see it down
                  </div>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {agents.map(([name, zone]) => (
              <tr key={name}>
                <th scope="row">
                  {name}
                  <div className="small">
                    <ZoneTag zone={zone} zones={zones} />
                  </div>
                </th>
                {health.nodes.map((n) => {
                  const v = n.agents.find((a) => a.name === name);
                  if (!v)
                    return (
                      <td key={n.id} className="muted">
                        not assigned
                      </td>
                    );
                  const tone = v.sdown ? 'bad' : v.ok ? 'ok' : 'warn';
                  return (
                    <td key={n.id} className={`cell tone-${tone}`}>
                      <span aria-hidden="true">{v.sdown ? '✕' : v.ok ? '✓' : '▲'} </span>
                      {v.sdown ? 'down' : v.status}
                      {v.ok && v.latencyMs !== null && v.latencyMs !== undefined && <span className="small"> · {fmtMs(v.latencyMs)}</span>}
                      {!v.ok && <div className="small">no reply for {fmtMs(v.noReplyMs)}</div>}
                      {v.error && <div className="small">{v.error}</div>}
                      {(v.stale || v.tilted || !v.voting) && (
                        <div className="small">{v.stale ? 'stale agent' : v.tilted ? 'agent running late' : 'not voting'}</div>
                      )}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </TableBox>
    </>
  );
}
