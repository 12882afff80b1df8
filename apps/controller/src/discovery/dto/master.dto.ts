import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import type { MasterEntry } from '../master-directory.service.js';

export const MAX_WATCH_MS = 300_000;
export const DEFAULT_WATCH_MS = 30_000;

export class MasterQueryDto {
  @ApiPropertyOptional({
    description: 'Block until the master is recorded under an epoch greater than this (or `timeoutMs` passes; then the current master is returned)',
    minimum: 0,
    example: 3,
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  waitEpochAfter?: number;

  @ApiPropertyOptional({ description: 'How long a watch may block, in ms', minimum: 0, maximum: MAX_WATCH_MS, default: DEFAULT_WATCH_MS })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(MAX_WATCH_MS)
  timeoutMs?: number;
}

export class MasterDto {
  @ApiProperty({ example: '10.0.1.12' }) host: string;
  @ApiProperty({ example: 6379 }) port: number;
  @ApiProperty({ example: 3, description: 'The cluster epoch this master was recorded under; every failover and switchover raises it' }) epoch: number;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'When this node became master' }) since: string | null;
  @ApiProperty({
    example: false,
    description:
      'True in failsafe: this controller cannot reach PostgreSQL, so this is the last committed master, given only while the agents see it up, ' +
      'answering ROLE master, and no other node claiming master (no failover can start meanwhile). The answer then carries a `Warning: 110` header.',
  })
  stale: boolean;

  static from(m: MasterEntry, stale: boolean): MasterDto {
    return { host: m.host, port: m.port, epoch: m.epoch, since: m.since?.toISOString() ?? null, stale };
  }
}
