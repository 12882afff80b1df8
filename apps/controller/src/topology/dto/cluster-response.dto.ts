import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { ClusterEntity } from '../cluster.entity.js';
import { NODE_ROLES, type NodeEntity, type NodeRole } from '../node.entity.js';

export class NodeDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ example: '10.0.1.12' }) host: string;
  @ApiProperty({ example: 6379 }) port: number;
  @ApiProperty({ enum: NODE_ROLES, description: 'Role as last decided by the controller' }) role: NodeRole;
  @ApiProperty({ example: 100, description: '0 = never promote; lower is preferred' }) priority: number;
  @ApiPropertyOptional({ type: String, nullable: true }) zone: string | null;
  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true, description: 'When the role was last read from the node' }) roleCheckedAt:
    string | null;

  static from(node: NodeEntity): NodeDto {
    return Object.assign(new NodeDto(), {
      id: node.id,
      host: node.host,
      port: node.port,
      role: node.role,
      priority: node.priority,
      zone: node.zone,
      roleCheckedAt: node.roleCheckedAt?.toISOString() ?? null,
    });
  }
}

export class RedisAuthDto {
  @ApiPropertyOptional({ type: String, nullable: true }) username: string | null;
  @ApiProperty({ description: 'Whether a password is stored (the password itself is never returned)' }) passwordSet: boolean;
  @ApiProperty() tls: boolean;
}

export class MasterAddressDto {
  @ApiProperty() host: string;
  @ApiProperty() port: number;
}

export class ClusterDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ example: 'orders' }) name: string;
  @ApiProperty() quorum: number;
  @ApiProperty() downAfterMs: number;
  @ApiProperty() failoverTimeoutMs: number;
  @ApiProperty() cooldownMs: number;
  @ApiProperty() autoFailover: boolean;
  @ApiProperty({ description: "An automatic failover also needs the master's own evidence that it is dead" }) requireMasterDeadEvidence: boolean;
  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true }) maintenanceUntil: string | null;
  @ApiProperty() minReplicasToWrite: number;
  @ApiProperty() minReplicasMaxLagS: number;
  @ApiProperty() maxReplicaLagBytes: number;
  @ApiProperty({ type: RedisAuthDto }) redis: RedisAuthDto;
  @ApiProperty({ type: [String] }) dnsNames: string[];
  @ApiPropertyOptional({ type: Number, nullable: true, description: 'TTL of externally published records (null: DNS_TTL)' }) dnsTtl: number | null;
  @ApiProperty({ description: 'Fencing token, raised by every failover and switchover' }) epoch: number;
  @ApiPropertyOptional({ type: MasterAddressDto, nullable: true, description: 'The node currently recorded as master' }) master: MasterAddressDto | null;
  @ApiProperty({ type: [NodeDto] }) nodes: NodeDto[];
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;

  static from(cluster: ClusterEntity, nodes: NodeEntity[]): ClusterDto {
    const master = nodes.find((n) => n.role === 'master');
    return Object.assign(new ClusterDto(), {
      id: cluster.id,
      name: cluster.name,
      quorum: cluster.quorum,
      downAfterMs: cluster.downAfterMs,
      failoverTimeoutMs: cluster.failoverTimeoutMs,
      cooldownMs: cluster.cooldownMs,
      autoFailover: cluster.autoFailover,
      requireMasterDeadEvidence: cluster.requireMasterDeadEvidence,
      maintenanceUntil: cluster.maintenanceUntil?.toISOString() ?? null,
      minReplicasToWrite: cluster.minReplicasToWrite,
      minReplicasMaxLagS: cluster.minReplicasMaxLagS,
      maxReplicaLagBytes: cluster.maxReplicaLagBytes,
      redis: { username: cluster.redisUsername, passwordSet: cluster.redisPasswordSealed !== null, tls: cluster.redisTls },
      dnsNames: cluster.dnsNames,
      dnsTtl: cluster.dnsTtl,
      epoch: cluster.epoch,
      master: master ? { host: master.host, port: master.port } : null,
      nodes: nodes.map((n) => NodeDto.from(n)),
      createdAt: cluster.createdAt.toISOString(),
      updatedAt: cluster.updatedAt.toISOString(),
    });
  }
}

export class ClusterListDto {
  @ApiProperty({ type: [ClusterDto] }) items: ClusterDto[];
  @ApiPropertyOptional({ type: String, nullable: true, description: 'Pass as `after` for the next page; null at the end' }) next: string | null;
}

export class NodeListDto {
  @ApiProperty({ type: [NodeDto] }) items: NodeDto[];
}
