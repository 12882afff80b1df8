import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import { RequireRole } from '../auth/principal.js';
import { ApiErrors } from '../common/api-docs.js';
import { VigilError } from '../common/errors.js';
import { clusterNameParam, uuidParam } from '../common/params.js';
import { DecisionViewDto, FailoverDetailDto, FailoverDto, FailoverListDto, FailoverStepDto } from './dto/failover.dto.js';
import { ClusterDecisions } from './cluster-decisions.js';
import { LeadershipService } from '../leadership/leadership.service.js';
import { TopologyCache } from '../topology/topology-cache.service.js';
import { DecisionNowService } from './decision-now.service.js';
import { FailoverStore } from './failover-store.js';

@ApiTags('failovers')
@Controller()
export class FailoversController {
  constructor(
    private readonly store: FailoverStore,
    private readonly decisions: ClusterDecisions,
    private readonly leadership: LeadershipService,
    private readonly topology: TopologyCache,
    private readonly live: DecisionNowService,
  ) {}

  @Get('clusters/:name/decision')
  @RequireRole('viewer')
  @ApiOperation({
    summary: 'Why Vigil acts or does not, now: the latest automatic decision about a down master and the faults seen',
    description:
      'A refusal carries its code and evidence (e.g. `master-alive`: the master is unreachable from the agents but answers the leader or still streams to its replicas). Ask the leader (GET /leadership). ' +
      '`now` answers, live and without probing anything, whether an automatic failover would start now, with every guard checked.',
  })
  @ApiParam({ name: 'name', description: 'Cluster name' })
  @ApiOkResponse({ type: DecisionViewDto })
  @ApiErrors(400, 404)
  async decision(@Param('name', clusterNameParam()) name: string): Promise<DecisionViewDto> {
    const cluster = this.topology.snapshot.clustersByName.get(name);
    if (!cluster) throw VigilError.notFound(`cluster ${name}`);
    const now = await this.live.evaluate(cluster);
    return { cluster: name, leader: this.leadership.isLeader(), ...this.decisions.view(cluster.id), now };
  }

  @Get('clusters/:name/failovers')
  @RequireRole('viewer')
  @ApiOperation({ summary: "A cluster's failovers and switchovers, newest first" })
  @ApiParam({ name: 'name', description: 'Cluster name' })
  @ApiQuery({ name: 'limit', required: false, description: '1-500, default 50' })
  @ApiOkResponse({ type: FailoverListDto })
  @ApiErrors(400)
  async list(@Param('name', clusterNameParam()) name: string, @Query('limit') limit?: string): Promise<FailoverListDto> {
    const n = limit === undefined ? 50 : Number(limit);
    if (!Number.isInteger(n) || n < 1 || n > 500) throw VigilError.validation([{ field: 'limit', reason: 'must be an integer between 1 and 500' }]);
    return { items: (await this.store.list(name, n)).map((f) => FailoverDto.from(f)) };
  }

  @Get('failovers/:id')
  @RequireRole('viewer')
  @ApiOperation({ summary: 'One failover with every step, its time and the time since the previous step' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOkResponse({ type: FailoverDetailDto })
  @ApiErrors(400, 404)
  async get(@Param('id', uuidParam('id')) id: string): Promise<FailoverDetailDto> {
    const f = await this.store.get(id);
    if (!f) throw VigilError.notFound(`failover ${id}`);
    return { ...FailoverDto.from(f), steps: FailoverStepDto.list(f.steps ?? []) };
  }
}
