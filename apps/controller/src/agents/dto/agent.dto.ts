import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import {
  AGENT_NAME_PATTERN,
  type AgentAssignment,
  type AgentHeartbeat,
  AgentHeartbeatAccepted,
  AgentRegistration,
  AgentRegistrationAccepted,
  type AgentReport,
  type AgentReportAccepted,
  type AssignedCluster,
  type AssignedNode,
  type NodeObservation,
  OPTIONAL_REPORT_FIELDS,
  PROBE_STATUSES,
  type ProbeStatus,
  type ReplicationObservation,
} from '../../../../../libs/contracts/src/index.js';
import type { AgentEntity } from '../agent.entity.js';

const NAME_MESSAGE = 'must be 1-64 letters, digits, dots, dashes or underscores';

export class RegisterAgentDto implements AgentRegistration {
  @ApiProperty({ example: 'probe-eu-west-1a' })
  @Matches(AGENT_NAME_PATTERN, { message: NAME_MESSAGE })
  name: string;

  @ApiProperty({ example: 'eu-west-1a' })
  @Matches(AGENT_NAME_PATTERN, { message: NAME_MESSAGE })
  zone: string;

  @ApiProperty({ example: '0.1.0' })
  @IsString()
  @MaxLength(64)
  version: string;
}

export class HeartbeatDto implements AgentHeartbeat {
  @ApiProperty({ example: '0.1.0' })
  @IsString()
  @MaxLength(64)
  version: string;

  @ApiProperty({ example: 120000, description: 'Milliseconds since the agent started', maximum: 315360000000 })
  @IsInt({ message: 'must be an integer' })
  @Min(0)
  @Max(315_360_000_000, { message: 'must not be greater than 315360000000 (ten years)' })
  uptimeMs: number;
}

export class RegistrationAcceptedDto implements AgentRegistrationAccepted {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty() heartbeatIntervalMs: number;
  @ApiProperty() staleAfterMs: number;
}

export class HeartbeatAcceptedDto implements AgentHeartbeatAccepted {
  @ApiProperty({ format: 'date-time' }) at: string;
  @ApiProperty() heartbeatIntervalMs: number;
}

export const AGENT_STATES = ['active', 'stale'] as const;

export class AgentDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty() zone: string;
  @ApiProperty() version: string;
  @ApiProperty({ enum: AGENT_STATES, description: 'stale = no heartbeat within staleAfterMs' }) state: (typeof AGENT_STATES)[number];
  @ApiProperty({ format: 'date-time' }) lastSeenAt: string;
  @ApiProperty({ description: 'Milliseconds since the last heartbeat, by the controller clock' }) lastSeenAgoMs: number;
  @ApiProperty({ format: 'date-time' }) registeredAt: string;
  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true }) startedAt: string | null;
  @ApiPropertyOptional({ type: [String], nullable: true, description: 'Clusters watched; null = all' }) watchClusters: string[] | null;

  static from(row: AgentEntity, now: number, staleAfterMs: number): AgentDto {
    const ago = Math.max(0, now - row.lastSeenAt.getTime());
    return Object.assign(new AgentDto(), {
      id: row.id,
      name: row.name,
      zone: row.zone,
      version: row.version,
      state: ago > staleAfterMs ? 'stale' : 'active',
      lastSeenAt: row.lastSeenAt.toISOString(),
      lastSeenAgoMs: ago,
      registeredAt: row.registeredAt.toISOString(),
      startedAt: row.startedAt?.toISOString() ?? null,
      watchClusters: row.watchClusters,
    });
  }
}

export class AgentListDto {
  @ApiProperty({ type: [AgentDto] }) items: AgentDto[];
}

export class AssignedNodeDto implements AssignedNode {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() host: string;
  @ApiProperty() port: number;
}

export class AssignedRedisAuthDto {
  @ApiPropertyOptional() username?: string;
  @ApiPropertyOptional({ description: 'Plain text: sent to agent tokens only' }) password?: string;
  @ApiProperty() tls: boolean;
}

export class AssignedClusterDto implements AssignedCluster {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty() downAfterMs: number;
  @ApiProperty({ type: AssignedRedisAuthDto }) redis: AssignedRedisAuthDto;
  @ApiProperty({ type: [AssignedNodeDto] }) nodes: AssignedNodeDto[];
}

export class AssignmentDto implements AgentAssignment {
  @ApiProperty({ description: 'Digest of the assignment; also the ETag' }) version: string;
  @ApiProperty({ type: [AssignedClusterDto] }) clusters: AssignedClusterDto[];
}

export class ReplicationObservationDto implements ReplicationObservation {
  @ApiProperty({ enum: ['master', 'replica'] }) role: 'master' | 'replica';
  @ApiPropertyOptional({ maxLength: 64 }) runId?: string;
  @ApiProperty({ minimum: 0 }) offset: number;
  @ApiPropertyOptional() masterHost?: string;
  @ApiPropertyOptional() masterPort?: number;
  @ApiPropertyOptional() linkUp?: boolean;
  @ApiPropertyOptional({ minimum: -1 }) linkDownSinceS?: number;
  @ApiPropertyOptional({ minimum: -1, description: 'master_last_io_seconds_ago; optional field repl.lastIoS (only to a controller that lists it)' })
  lastIoS?: number;
  @ApiPropertyOptional({ minimum: 0 }) replicas?: number;
  @ApiProperty({ minimum: 0, description: 'Milliseconds since the agent read this INFO' }) ageMs: number;
}

export class NodeObservationDto implements NodeObservation {
  @ApiProperty({ format: 'uuid', description: 'Node id from the assignment' }) id: string;
  @ApiProperty({ enum: PROBE_STATUSES, description: 'ok; busy (-LOADING, -MASTERDOWN: alive); down (no valid reply); auth (credentials refused)' })
  st: ProbeStatus;
  @ApiProperty({ minimum: 0, description: 'Milliseconds since the last valid reply (since watching began if none yet)' }) ago: number;
  @ApiPropertyOptional({ minimum: 0, description: 'Round trip of the last valid PING, ms' }) lat?: number;
  @ApiPropertyOptional({ maxLength: 500 }) err?: string;
  @ApiPropertyOptional({ type: ReplicationObservationDto, description: 'Sent when it changed, and every few seconds' }) repl?: ReplicationObservationDto;
}

export class AgentReportDto implements AgentReport {
  @ApiProperty({ minimum: 0 }) seq: number;
  @ApiProperty({ maxLength: 64, description: 'Assignment version being probed' }) assignment: string;
  @ApiProperty({ minimum: 10, maximum: 60000 }) intervalMs: number;
  @ApiPropertyOptional({ minimum: 0, description: 'How late recent probe ticks ran; near down-after, this agent does not vote' }) lagMs?: number;
  @ApiProperty({ type: [NodeObservationDto], maxItems: 100000 }) nodes: NodeObservationDto[];
}

export class ReportAcceptedDto implements AgentReportAccepted {
  @ApiProperty({ description: 'Current assignment version; fetch the assignment again when it differs from the one reported' }) assignment: string;
  @ApiProperty({
    type: [String],
    enum: OPTIONAL_REPORT_FIELDS,
    description: 'Optional report fields this controller accepts beyond the baseline; send no other (absent from older controllers: send the baseline)',
  })
  reportFields: string[];
}
