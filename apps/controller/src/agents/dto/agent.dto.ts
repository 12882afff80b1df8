import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import {
  AGENT_NAME_PATTERN,
  type AgentHeartbeat,
  AgentHeartbeatAccepted,
  AgentRegistration,
  AgentRegistrationAccepted,
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
