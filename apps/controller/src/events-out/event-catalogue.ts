/**
 * The event types the controller records and the fields of their `data`, for the OpenAPI descriptions
 * of the event stream and webhooks. Addresses are `host:port` strings unless shown as objects.
 */
const CATALOGUE: [type: string, data: string][] = [
  ['cluster.created', '`settings`, `nodes` [{host, port}]'],
  ['cluster.updated', '`changes` (the settings given; a password shows as `<redacted>`)'],
  ['cluster.deleted', '`nodes` [{host, port}], `epoch`'],
  ['cluster.maintenance_started', '`until`, `reason`?, `epoch`'],
  ['cluster.maintenance_ended', '`until` (null), `epoch`'],
  [
    'cluster.roles_discovered',
    '`master` {host, port} | null, `warnings`, `nodes` [{host, port, role, reported?, offset?, masterHost?, masterPort?, error?, authFailure?}]',
  ],
  ['cluster.can_decide, cluster.cannot_decide', '`healthyAgents`, `usableAgents`, `assignedAgents`, `quorum`, `reason`? (cannot_decide), `decidedAt`'],
  ['node.added', '`nodeId`, `host`, `port`, `priority`, `zone`'],
  ['node.updated', '`nodeId`, `host`, `port`, `changes`'],
  ['node.removed', '`nodeId`, `host`, `port`, `role`'],
  [
    'node.up, node.sdown, node.odown, node.config_fault, node.unknown',
    '`node` {id, host, port}, `from`, `to`, `quorum`, `downAfterMs`, `assigned` (agents assigned: the majority is of these), `needed` (SDOWN votes ODOWN needs), `voters`, `sdownVotes`, `votes`, `decidedAt`; node.odown adds `replicas`, `faultSince`?, `quorumReachedAt`?, `detectionLatencyMs`?',
  ],
  ['node.demoted', '`node`, `runId`, `seenBy`, `master`, `epoch`, `role` (a node that claimed master was pointed at the recorded master)'],
  ['node.repointed', '`node`, `followed`, `master`, `epoch`, `role` (a replica following the wrong master was re-pointed)'],
  [
    'failover.started',
    '`failoverId`, `epoch`, `trigger` (auto, manual, switchover), `from`, and the cause: `votes` or `via` (auto), `target` (manual, switchover)',
  ],
  ['failover.refused', '`code` (auto_failover_off, maintenance, cooldown, cannot_decide), `reason`, `master`, `epoch`'],
  ['failover.succeeded', '`failoverId`, `epoch`, `from`, `to`, `phases` (instants), `durationsMs`'],
  ['failover.failed', '`failoverId`, `epoch`, `from`?, `error`, `excluded`?'],
  ['failover.aborted', '`failoverId`, `epoch`, `from`?, `to`?, `error`'],
  [
    'operator.refused',
    '`action` (failover, switchover, maintenance.start, maintenance.end), `via` (rest, sentinel), `code` (forbidden, maintenance, running, conflict), `reason`, `role`; the actor is `token:<name>`, `sentinel:token:<name>` or `sentinel:password`',
  ],
  ['master.changed', '`failoverId`, `epoch`, `from`, `to` (the new master; recorded with the failover’s outcome)'],
  ['agent.registered, agent.reregistered', '`agentId`, `zone`, `version`, `token`'],
  ['agent.removed', '`agentId`, `name`, `zone`'],
  ['agent.stale, agent.recovered', '`agentId`, `name`, `zone`, `silentMs`, `decidedAt`'],
  ['detection.state', '`at`, `nodesNotUp` [{cluster, host, port, state, since}], `cannotDecide` [cluster names] (written by a new leader)'],
  ['controller.leader_elected', '`holder`, `term`'],
  [
    'jobs.backend_unavailable, jobs.backend_restored',
    '`backend` (redis), `controller`, `error` (unavailable) / `downMs`, `lastError` (restored); recorded by each replica for its own connection',
  ],
  ['auth.rate_limited', '`address`, `failures`, `windowMs`, `retryAfterS` (an address blocked after too many failed authentications; once per block)'],
  ['token.created', '`tokenId`, `name`, `role`, `expiresAt` (null: never)'],
  ['token.revoked', '`tokenId`, `name`, `reason`?'],
  ['token.seeded', '`name`'],
  ['webhook.created', '`webhookId`, `target` (scheme, host and port of the URL), `types`'],
  ['webhook.deleted', '`webhookId`, `target`'],
];

/** Markdown: the event shape and every type with its `data` fields. */
export const EVENT_CATALOGUE_MARKDOWN =
  'Every event is `{id, at, type, cluster, actor, data}`, as `GET /events` lists it: `id` a string (64-bit), `at` ISO 8601, `cluster` the cluster name or null, ' +
  '`actor` `token:<name>`, `sentinel:token:<name>`, `sentinel:password`, `agent:<name>` or `controller:<name>`. Types and their `data` fields (more types may be added: ignore those you do not know):\n\n' +
  CATALOGUE.map(([type, data]) => `- \`${type.split(', ').join('`, `')}\`: ${data}`).join('\n');
