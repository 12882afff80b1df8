import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { PROBE_STATUSES, type ProbeStatus } from '../../../../../libs/contracts/src/index.js';
import { NODE_ROLES, type NodeRole } from '../../topology/node.entity.js';
import { NODE_STATES, type NodeState } from '../detection-engine.js';

export class ReplicationViewDto {
  @ApiProperty({ enum: ['master', 'replica'] }) role: 'master' | 'replica';
  @ApiPropertyOptional() runId?: string;
  @ApiProperty({ description: 'master_repl_offset on a master, slave_repl_offset on a replica' }) offset: number;
  @ApiPropertyOptional() masterHost?: string;
  @ApiPropertyOptional() masterPort?: number;
  @ApiPropertyOptional({ description: 'master_link_status is up' }) linkUp?: boolean;
  @ApiPropertyOptional() linkDownSinceS?: number;
  @ApiPropertyOptional({
    description:
      'Replicas: seconds since the replica last heard from its master (master_last_io_seconds_ago) when the agent read it; -1 or absent when unknown (older agents do not send it)',
  })
  lastIoS?: number;
  @ApiPropertyOptional({ description: 'Connected replicas (masters)' }) replicas?: number;
  @ApiProperty({ format: 'date-time', description: 'When the agent read this INFO' }) readAt: string;
}

export class AgentNodeViewDto {
  @ApiProperty() name: string;
  @ApiProperty() zone: string;
  @ApiProperty({ description: 'The last probe had a valid reply (PONG, or -LOADING / -MASTERDOWN)' }) ok: boolean;
  @ApiProperty({ enum: PROBE_STATUSES }) status: ProbeStatus;
  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true, description: 'Last valid reply this agent had' }) lastOkAt: string | null;
  @ApiPropertyOptional({ type: Number, nullable: true, description: 'Round trip of the last valid PING' }) latencyMs: number | null;
  @ApiProperty({ description: 'Milliseconds without a valid reply, as of now' }) noReplyMs: number;
  @ApiProperty({ description: 'This agent sees the node subjectively down (no valid reply for downAfterMs)' }) sdown: boolean;
  @ApiProperty({ description: 'This view counts in the quorum now (agent healthy and its report recent)' }) voting: boolean;
  @ApiProperty({ description: 'The agent has stopped reporting' }) stale: boolean;
  @ApiProperty({ description: "The agent's own probe loop runs too late for this cluster's down-after: its view does not vote" }) tilted: boolean;
  @ApiPropertyOptional({ description: 'Why the last probe failed' }) error?: string;
  @ApiPropertyOptional({ type: ReplicationViewDto }) replication?: ReplicationViewDto;
}

export class NodeHealthDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() host: string;
  @ApiProperty() port: number;
  @ApiProperty({ enum: NODE_ROLES, description: 'Role as last decided by the controller' }) role: NodeRole;
  @ApiProperty({
    enum: NODE_STATES,
    description:
      'up; sdown (some agents see it down); odown (quorum and majority agree); config-fault (it refuses our credentials); unknown (no agent reports on it)',
  })
  state: NodeState;
  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true, description: 'When this controller last saw the state change' }) since:
    string | null;
  @ApiProperty({ description: 'Agents assigned to the cluster, voting or not: ODOWN needs a strict majority of them (and quorum)' }) assigned: number;
  @ApiProperty({ description: 'Agents whose view counts now' }) voters: number;
  @ApiProperty({ description: 'Of those, agents that see the node down' }) sdownVotes: number;
  @ApiProperty({ type: [AgentNodeViewDto] }) agents: AgentNodeViewDto[];
}

export class ClusterHealthDto {
  @ApiProperty() cluster: string;
  @ApiProperty() quorum: number;
  @ApiProperty() downAfterMs: number;
  @ApiProperty({
    description: 'The usable agents can reach both `quorum` and a strict majority of the assigned agents; when false, no node can be declared ODOWN',
  })
  canDecide: boolean;
  @ApiProperty({ type: String, nullable: true, description: 'Why the cluster cannot decide (null when it can)' }) cannotDecideReason: string | null;
  @ApiProperty({ description: 'Registered agents that watch this cluster, reporting or not (the denominator of the ODOWN majority)' })
  assignedAgents: number;
  @ApiProperty({ description: 'Assigned agents that could vote now: healthy and not stalled (tilted)' }) usableAgents: number;
  @ApiProperty({ description: 'Healthy agents whose reports cover this cluster' }) healthyAgents: number;
  @ApiProperty({ type: [NodeHealthDto] }) nodes: NodeHealthDto[];
}
