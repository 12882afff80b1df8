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
