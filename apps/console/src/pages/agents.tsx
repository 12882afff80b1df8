import { useAgents } from '../api/queries';
import { Badge, ErrorNote, Loading, TableBox, ZoneLegend, ZoneTag } from '../components/ui';
import { fmtAgo, fmtMs } from '../lib/format';

export function AgentsPage() {
  const agents = useAgents();
  if (agents.isPending) return <Loading what="agents" />;
  if (agents.isError) return <ErrorNote error={agents.error} />;
  const items = [...agents.data.items].sort((a, b) => a.zone.localeCompare(b.zone) || a.name.localeCompare(b.name));
  const zones = [...new Set(items.map((a) => a.zone))].sort();
  const stale = items.filter((a) => a.state !== 'active').length;
  return (
    <>
      <h1>Probe agents</h1>
      <p>
        {items.length} agents in {zones.length} zones{stale > 0 && <strong> · {stale} stale (their views do not vote)</strong>}
      </p>
      <ZoneLegend zones={zones} />
      <TableBox label="Agents">
        <table data-testid="agents">
          <thead>
            <tr>
              <th scope="col">Agent</th>
              <th scope="col">Zone</th>
              <th scope="col">State</th>
              <th scope="col">Last heartbeat</th>
              <th scope="col">Version</th>
              <th scope="col">Watches</th>
              <th scope="col">Registered</th>
            </tr>
          </thead>
          <tbody>
            {items.map((a) => (
              <tr key={a.id}>
                <th scope="row">{a.name}</th>
                <td>
                  <ZoneTag zone={a.zone} zones={zones} />
                </td>
                <td>
                  {a.state === 'active' ? (
                    <Badge tone="ok" mark="✓">
                      active
                    </Badge>
                  ) : (
                    <Badge tone="bad" mark="✕">
                      stale
                    </Badge>
                  )}
                </td>
                <td>{fmtMs(a.lastSeenAgoMs)} ago</td>
                <td className="mono">{a.version}</td>
                <td>{a.watchClusters ? a.watchClusters.join(', ') : 'all clusters'}</td>
                <td>{fmtAgo(a.registeredAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableBox>
    </>
  );
}
