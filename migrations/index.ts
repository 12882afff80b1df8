import { InitialTopology1763769600000 } from './1763769600000-initial-topology.js';
import { TopologyNotify1763856000000 } from './1763856000000-topology-notify.js';
import { ControllerLeases1763942400000 } from './1763942400000-controller-leases.js';
import { EpochFencing1764028800000 } from './1764028800000-epoch-fencing.js';
import { IdempotencyKeys1764115200000 } from './1764115200000-idempotency-keys.js';
import { Publishing1764201600000 } from './1764201600000-publishing.js';
import { Webhooks1764288000000 } from './1764288000000-webhooks.js';
import { AgentAssignment1764374400000 } from './1764374400000-agent-assignment.js';
import { FailoverState1764460800000 } from './1764460800000-failover-state.js';
import { TokenExpiry1764547200000 } from './1764547200000-token-expiry.js';
import { DeliveryRetention1764633600000 } from './1764633600000-delivery-retention.js';
import { JobOutbox1764806400000 } from './1764806400000-job-outbox.js';
import { TopologyNotifyRows1764892800000 } from './1764892800000-topology-notify-rows.js';
import { EventRetention1764979200000 } from './1764979200000-event-retention.js';

/** Every migration, oldest first. A new migration file is added here too (no globs: works in tests and builds alike). */
export const MIGRATIONS = [
  InitialTopology1763769600000,
  TopologyNotify1763856000000,
  ControllerLeases1763942400000,
  EpochFencing1764028800000,
  IdempotencyKeys1764115200000,
  Publishing1764201600000,
  Webhooks1764288000000,
  AgentAssignment1764374400000,
  FailoverState1764460800000,
  TokenExpiry1764547200000,
  DeliveryRetention1764633600000,
  JobOutbox1764806400000,
  TopologyNotifyRows1764892800000,
  EventRetention1764979200000,
];
