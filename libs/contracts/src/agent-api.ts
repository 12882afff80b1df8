/**
 * The wire contract between probe agents and the controller. Both sides import these types; the
 * controller validates every field of what arrives (see the agents module's DTOs).
 */

/** Base path of the agent-facing endpoints, under the controller's `/api/v1`. */
export const AGENT_API_PREFIX = '/api/v1/agents';

/** `POST /api/v1/agents/register` body. */
export interface AgentRegistration {
  /** Unique agent name; bound to the token that first registers it. */
  name: string;
  /** Failure-domain label (availability zone, rack, data centre). */
  zone: string;
  /** Agent software version. */
  version: string;
}

/** `POST /api/v1/agents/register` answer. */
export interface AgentRegistrationAccepted {
  id: string;
  name: string;
  /** How often the controller expects a heartbeat. */
  heartbeatIntervalMs: number;
  /** After this long without a heartbeat the controller marks the agent stale. */
  staleAfterMs: number;
}

/** `POST /api/v1/agents/{name}/heartbeat` body. */
export interface AgentHeartbeat {
  version: string;
  /** Milliseconds since the agent process started. */
  uptimeMs: number;
}

/** `POST /api/v1/agents/{name}/heartbeat` answer. */
export interface AgentHeartbeatAccepted {
  /** Controller's clock when the heartbeat was stored (ISO 8601). */
  at: string;
  heartbeatIntervalMs: number;
}

/** How one node is reached by the agents: `GET /api/v1/agents/{name}/assignment`. */
export interface AssignedNode {
  id: string;
  host: string;
  port: number;
}

/** One cluster an agent watches, with what it needs to authenticate to the nodes. */
export interface AssignedCluster {
  id: string;
  name: string;
  downAfterMs: number;
  /** ACL user and password (plain text, sent to agent tokens only), TLS on/off. */
  redis: { username?: string; password?: string; tls: boolean };
  nodes: AssignedNode[];
}

/**
 * What an agent must watch. `version` changes whenever the assignment does; the agent sends it with
 * every report, and the controller's answer carries the current one so the agent refetches at once.
 */
export interface AgentAssignment {
  version: string;
  clusters: AssignedCluster[];
}

/**
 * Probe outcome of one node as one agent sees it now:
 * - `ok`: a valid reply to the last PING;
 * - `busy`: alive but not serving (`-LOADING`, `-MASTERDOWN`): a valid reply, as for Sentinel;
 * - `down`: no valid reply (refused, timed out, reset, other error);
 * - `auth`: the node refuses our credentials (`-NOAUTH`, `-WRONGPASS`, `-NOPERM`): a configuration fault.
 */
export const PROBE_STATUSES = ['ok', 'busy', 'down', 'auth'] as const;
export type ProbeStatus = (typeof PROBE_STATUSES)[number];

/** Replication facts from the node's `INFO replication`, as last read by the agent. */
export interface ReplicationObservation {
  role: 'master' | 'replica';
  runId?: string;
  /** master_repl_offset on a master, slave_repl_offset on a replica. */
  offset: number;
  masterHost?: string;
  masterPort?: number;
  linkUp?: boolean;
  linkDownSinceS?: number;
  /**
   * Replicas: seconds since the replica last received anything from its master
   * (`master_last_io_seconds_ago`, whole seconds); -1 or absent when unknown. Optional report field
   * `repl.lastIoS`: sent only to a controller that lists it; older agents do not send it.
   */
  lastIoS?: number;
  /** connected_slaves on a master. */
  replicas?: number;
  /** Milliseconds since the agent read this INFO. */
  ageMs: number;
}

/**
 * One node in a report. Times are relative (milliseconds before the report was sent), so the agent's
 * and the controller's clocks never need to agree.
 */
export interface NodeObservation {
  id: string;
  st: ProbeStatus;
  /** Milliseconds since the last valid reply; since the agent began watching the node if it never had one. */
  ago: number;
  /** Round trip of the last valid PING, in milliseconds. */
  lat?: number;
  /** Why the last probe failed (short), when `st` is not `ok`. */
  err?: string;
  /** Sent when the replication facts changed, and every few seconds regardless. */
  repl?: ReplicationObservation;
}

/** `POST /api/v1/agents/{name}/reports` body: one per agent per probe interval. */
export interface AgentReport {
  /** Increases by one per report (diagnostics: a gap means reports were lost or skipped). */
  seq: number;
  /** The assignment version the agent is probing. */
  assignment: string;
  /** The agent's probe interval. */
  intervalMs: number;
  /**
   * How late the agent's recent probe ticks ran (ms). A stalled agent times replies late; when this
   * nears a cluster's down-after, the controller does not count the agent's votes there.
   */
  lagMs?: number;
  nodes: NodeObservation[];
}

/** `POST /api/v1/agents/{name}/reports` answer. */
export interface AgentReportAccepted {
  /** The current assignment version: when it differs from the report's, fetch the assignment again. */
  assignment: string;
  /**
   * The optional report fields (`OPTIONAL_REPORT_FIELDS`) this controller accepts beyond the baseline. Absent
   * from controllers older than the negotiation: send them the baseline only.
   */
  reportFields?: string[];
}
