import { ApiProperty, ApiPropertyOptional, OmitType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsDate,
  IsFQDN,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
  isFQDN,
  isIP,
  registerDecorator,
  type ValidationOptions,
} from 'class-validator';
import { IsOmittable } from '../../common/validation.js';
import { AGENT_NAME_PATTERN as ZONE_PATTERN, CLUSTER_NAME_PATTERN } from '../../../../../libs/contracts/src/index.js';

const CLUSTER_NAME_MESSAGE = 'must be a DNS label: 1-63 lower-case letters, digits and dashes, not starting or ending with a dash';

/** A Redis host: an IPv4/IPv6 address or an RFC 1123 host name. */
export function IsRedisHost(options?: ValidationOptions): PropertyDecorator {
  return (target, property) =>
    registerDecorator({
      name: 'isRedisHost',
      target: target.constructor,
      propertyName: property as string,
      options: { message: 'must be an IP address or a host name', ...options },
      validator: {
        validate: (value: unknown) =>
          typeof value === 'string' &&
          value.length <= 253 &&
          (isIP(value) || isFQDN(value, { require_tld: false, allow_underscores: false, allow_trailing_dot: false })),
      },
    });
}

export class NodeInputDto {
  @ApiProperty({ example: '10.0.1.12', description: 'IP address or host name' })
  @IsRedisHost()
  host: string;

  @ApiProperty({ example: 6379, minimum: 1, maximum: 65535 })
  @IsInt({ message: 'must be an integer' })
  @Min(1)
  @Max(65535)
  port: number;

  @ApiPropertyOptional({ default: 100, minimum: 0, maximum: 1000000, description: '0 = never promote; lower is preferred' })
  @IsOmittable()
  @IsInt({ message: 'must be an integer' })
  @Min(0)
  @Max(1_000_000)
  priority?: number;

  @ApiPropertyOptional({ example: 'eu-west-1a', description: 'Failure-domain label' })
  @IsOmittable()
  @Matches(ZONE_PATTERN, { message: 'must be 1-64 letters, digits, dots, dashes or underscores' })
  zone?: string;
}

export class RedisAuthInputDto {
  @ApiPropertyOptional({ example: 'vigil', description: 'ACL user name (omit for the default user)' })
  @IsOmittable()
  @IsString()
  @MaxLength(128)
  username?: string;

  @ApiPropertyOptional({ description: 'Write-only: stored encrypted, never returned', writeOnly: true })
  @IsOmittable()
  @IsString()
  @MaxLength(512)
  password?: string;

  @ApiPropertyOptional({ default: false })
  @IsOmittable()
  @IsBoolean()
  tls?: boolean;
}

/** Settings that can be given at creation and changed later. */
export class ClusterSettingsDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 100, description: 'Agents that must agree a node is down' })
  @IsOmittable()
  @IsInt({ message: 'must be an integer' })
  @Min(1, { message: 'must be at least 1' })
  @Max(100)
  quorum?: number;

  @ApiPropertyOptional({ minimum: 100, maximum: 3600000, description: 'No valid reply for this long = subjectively down' })
  @IsOmittable()
  @IsInt({ message: 'must be an integer' })
  @Min(100)
  @Max(3_600_000)
  downAfterMs?: number;

  @ApiPropertyOptional({ minimum: 1000, maximum: 3600000, default: 60000 })
  @IsOmittable()
  @IsInt({ message: 'must be an integer' })
  @Min(1000)
  @Max(3_600_000)
  failoverTimeoutMs?: number;

  @ApiPropertyOptional({ minimum: 0, maximum: 86400000, default: 300000, description: 'No second automatic failover inside this window' })
  @IsOmittable()
  @IsInt({ message: 'must be an integer' })
  @Min(0)
  @Max(86_400_000)
  cooldownMs?: number;

  @ApiPropertyOptional({ default: true })
  @IsOmittable()
  @IsBoolean()
  autoFailover?: boolean;

  @ApiPropertyOptional({
    default: true,
    description:
      "An automatic failover also needs the master's own evidence that it is dead: it does not answer the leader's PING and no replica still receives its stream. Off gives Sentinel's semantics (the agents' quorum alone).",
  })
  @IsOmittable()
  @IsBoolean()
  requireMasterDeadEvidence?: boolean;

  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true, description: 'Automatic failover is off until then' })
  @IsOptional()
  @Type(() => Date)
  @IsDate({ message: 'must be an ISO 8601 date-time' })
  maintenanceUntil?: Date | null;

  @ApiPropertyOptional({ minimum: 0, maximum: 100, default: 0, description: 'min-replicas-to-write applied to the master' })
  @IsOmittable()
  @IsInt({ message: 'must be an integer' })
  @Min(0)
  @Max(100)
  minReplicasToWrite?: number;

  @ApiPropertyOptional({ minimum: 0, maximum: 3600, default: 10, description: 'min-replicas-max-lag applied to the master' })
  @IsOmittable()
  @IsInt({ message: 'must be an integer' })
  @Min(0)
  @Max(3600)
  minReplicasMaxLagS?: number;

  @ApiPropertyOptional({ minimum: 0, default: 0, description: 'Replicas further behind than this are not promoted (0 = no limit)' })
  @IsOmittable()
  @IsInt({ message: 'must be an integer' })
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  maxReplicaLagBytes?: number;

  @ApiPropertyOptional({ type: RedisAuthInputDto })
  @IsOmittable()
  @ValidateNested()
  @Type(() => RedisAuthInputDto)
  redis?: RedisAuthInputDto;

  @ApiPropertyOptional({ type: [String], example: ['orders.redis.example.'], description: 'Extra DNS names published for the master' })
  @IsOmittable()
  @IsArray()
  @ArrayMaxSize(16)
  @IsFQDN({ require_tld: false, allow_trailing_dot: true }, { each: true, message: 'each must be a DNS name' })
  dnsNames?: string[];

  @ApiPropertyOptional({
    type: Number,
    nullable: true,
    minimum: 0,
    maximum: 86400,
    description: 'TTL in seconds of the records Vigil writes to an external DNS server for this cluster (null: DNS_TTL)',
  })
  @IsOptional()
  @IsInt({ message: 'must be an integer' })
  @Min(0)
  @Max(86_400)
  dnsTtl?: number | null;
}

export class CreateClusterDto extends OmitType(ClusterSettingsDto, ['quorum', 'downAfterMs'] as const) {
  @ApiProperty({ example: 'orders', description: 'DNS label: it becomes <name>.<zone> and the Sentinel master name' })
  @Matches(CLUSTER_NAME_PATTERN, { message: CLUSTER_NAME_MESSAGE })
  name: string;

  @ApiProperty({ type: [NodeInputDto], minItems: 1, maxItems: 64 })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(64)
  @ValidateNested({ each: true })
  @Type(() => NodeInputDto)
  nodes: NodeInputDto[];

  @ApiProperty({ minimum: 1, maximum: 100, example: 2, description: 'Agents that must agree a node is down' })
  @IsInt({ message: 'must be an integer' })
  @Min(1, { message: 'must be at least 1' })
  @Max(100)
  quorum: number;

  @ApiProperty({ minimum: 100, maximum: 3600000, example: 5000 })
  @IsInt({ message: 'must be an integer' })
  @Min(100)
  @Max(3_600_000)
  downAfterMs: number;
}

export class UpdateClusterDto extends ClusterSettingsDto {
  @ApiPropertyOptional({ description: 'Refuse (409) unless the cluster is still at this epoch' })
  @IsOmittable()
  @IsInt({ message: 'must be an integer' })
  @Min(0)
  expectedEpoch?: number;
}

export class NodeUpdateDto {
  @ApiPropertyOptional({ minimum: 0, maximum: 1000000 })
  @IsOmittable()
  @IsInt({ message: 'must be an integer' })
  @Min(0)
  @Max(1_000_000)
  priority?: number;

  @ApiPropertyOptional({ type: String, nullable: true })
  @IsOptional()
  @Matches(ZONE_PATTERN, { message: 'must be 1-64 letters, digits, dots, dashes or underscores' })
  zone?: string | null;
}

export class ClusterListQueryDto {
  @ApiPropertyOptional({ description: 'Cursor: the `next` value of the previous page (clusters come in name order)', example: 'orders' })
  @IsOptional()
  @Matches(CLUSTER_NAME_PATTERN, { message: 'must be a cursor returned as next (a cluster name)' })
  after?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 1000, default: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'must be an integer' })
  @Min(1)
  @Max(1000)
  limit?: number;
}
