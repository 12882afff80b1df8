import { useMemo } from 'react';
import type { Me } from '../app';
import { useCluster, useDecision, useFailovers, useHealth, useLatestEvents, useOverview } from '../api/queries';
import { ErrorNote, HealthBadge, Loading, Section } from '../components/ui';
import { fmtMs, fmtTime } from '../lib/format';
import { href } from '../lib/router';
import { Actions } from './cluster/actions';
import { DecisionNow, Timeline } from './cluster/decisions';
import { History } from './cluster/history';
import { topology } from './cluster/model';
import { Publication } from './cluster/publication';
import { AgentMatrix, Topology } from './cluster/topology';

const DAY_MS = 86_400_000;

export function ClusterPage({ name, me }: { name: string; me: Me }) {
  const cluster = useCluster(name);
  const health = useHealth(name);
  const decision = useDecision(name);
  const failovers = useFailovers(name);
  const since = useMemo(() => new Date(Date.now() - DAY_MS).toISOString(), []);
  const events = useLatestEvents(name, since);
  const overview = useOverview();
  const summary = overview.data?.items.find((c) => c.name === name);

  if (cluster.isPending) return <Loading what={`cluster ${name}`} />;
  if (cluster.isError)
    return (
      <>
        <h1>{name}</h1>
        <ErrorNote error={cluster.error} />
        <p>
          <a href={href('/')}>Back to every cluster</a>
        </p>
      </>
    );
  const c = cluster.data;
  const zones = topology(c, health.data).zones;
  return (
    <>
      <nav aria-label="Breadcrumb" className="small">
        <a href={href('/')}>Clusters</a> / {name}
      </nav>
      <div className="page-head">
        <h1>{name}</h1>
        {summary && <HealthBadge health={summary.health} />}
      </div>
      <p className="summary">
        Master <span className="mono strong">{c.master ? `${c.master.host}:${c.master.port}` : 'none recorded'}</span> · epoch {c.epoch} · quorum {c.quorum} ·
        down-after {fmtMs(c.downAfterMs)} · auto-failover {c.autoFailover ? 'on' : 'off'}
        {c.maintenanceUntil && Date.parse(c.maintenanceUntil) > Date.now() && <strong> · maintenance until {fmtTime(c.maintenanceUntil)}</strong>}
      </p>
      {summary && summary.reasons.length > 0 && summary.health !== 'ok' && <p className="note">{summary.reasons.join('; ')}</p>}
      <Actions cluster={c} role={me.role} />
      <div className="grid">
        <Section title="Topology">
          <Topology cluster={c} health={health.data} />
        </Section>
        <Section title="Decisions">
          {decision.isError ? <ErrorNote error={decision.error} /> : decision.data ? <DecisionNow view={decision.data} /> : <Loading what="decision" />}
        </Section>
      </div>
      <Section title="Who sees what: agents × nodes">
        {health.isError ? <ErrorNote error={health.error} /> : health.data ? <AgentMatrix health={health.data} zones={zones} /> : <Loading what="health" />}
      </Section>
      <Section title="Decision timeline (24 h)">
        {events.isError ? <ErrorNote error={events.error} /> : events.data ? <Timeline events={events.data.items} /> : <Loading what="events" />}
      </Section>
      <Section title="Failover history">
        {failovers.isError ? <ErrorNote error={failovers.error} /> : failovers.data ? <History items={failovers.data.items} /> : <Loading what="failovers" />}
      </Section>
      <Section title="Publication">
        <Publication name={name} />
      </Section>
    </>
  );
}
