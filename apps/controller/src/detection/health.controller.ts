import { Controller, Get, Param } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { RequireRole } from '../auth/principal.js';
import { ApiErrors } from '../common/api-docs.js';
import { VigilError } from '../common/errors.js';
import { clusterNameParam } from '../common/params.js';
import { TopologyCache } from '../topology/topology-cache.service.js';
import { DetectionService } from './detection.service.js';
import { ClusterHealthDto } from './dto/health.dto.js';
import { clusterHealth } from './health-view.js';

@ApiTags('clusters')
@Controller('clusters')
export class ClusterHealthController {
  constructor(
    private readonly detection: DetectionService,
    private readonly topology: TopologyCache,
  ) {}

  @Get(':name/health')
  @RequireRole('viewer')
  @ApiOperation({ summary: "Each node's detection state and every agent's view of it (this controller's memory, no database read)" })
  @ApiParam({ name: 'name', description: 'Cluster name' })
  @ApiOkResponse({ type: ClusterHealthDto })
  @ApiErrors(400, 404)
  health(@Param('name', clusterNameParam()) name: string): ClusterHealthDto {
    const cluster = this.topology.snapshot.clustersByName.get(name);
    if (!cluster) throw VigilError.notFound(`cluster ${name}`);
    return clusterHealth(this.detection.engine, cluster, Date.now());
  }
}
