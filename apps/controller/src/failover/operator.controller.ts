import { Body, Controller, Delete, HttpCode, Param, ParseBoolPipe, Post, Put, Query } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, ApiOperation, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, type Principal, RequireRole } from '../auth/principal.js';
import { ApiErrors } from '../common/api-docs.js';
import { VigilError } from '../common/errors.js';
import { clusterNameParam } from '../common/params.js';
import { ClusterDto } from '../topology/dto/cluster-response.dto.js';
import { DryRunDto, FailoverDetailDto, FailoverDto, FailoverRequestDto, FailoverStepDto, MaintenanceDto } from './dto/failover.dto.js';
import { FailoverStore } from './failover-store.js';
import { FailoverService } from './failover.service.js';
import { OperatorActionsService } from './operator-actions.service.js';
import { Idempotent } from '../idempotency/idempotency.interceptor.js';

@ApiTags('failovers')
@ApiExtraModels(FailoverDetailDto, DryRunDto)
@Controller('clusters/:name')
export class OperatorController {
  constructor(
    private readonly failovers: FailoverService,
    private readonly actions: OperatorActionsService,
    private readonly store: FailoverStore,
  ) {}

  @Post('failover')
  @Idempotent()
  @HttpCode(200)
  @RequireRole('operator')
  @ApiOperation({
    summary: 'Forced failover now (no ODOWN needed; cooldown and auto-failover do not apply)',
    description:
      'Answers when it is done, with the record and its steps. Refused with 409 while the cluster is in maintenance unless `ignoreMaintenance: true`, and while another failover runs. ' +
      "`?dryRun=true` changes nothing and answers the ranked candidates with the reason for each exclusion and the master's own evidence. Replicas holding none of the master's data (first sync running, never synced), stale or lagging ones are never promoted unless `target` names one and `acceptDataLoss` is true.",
  })
  @ApiParam({ name: 'name', description: 'Cluster name' })
  @ApiQuery({ name: 'dryRun', required: false, type: Boolean })
  @ApiOkResponse({
    description: 'The failover record, or with dryRun the candidates',
    schema: { oneOf: [{ $ref: '#/components/schemas/FailoverDetailDto' }, { $ref: '#/components/schemas/DryRunDto' }] },
  })
  @ApiErrors(400, 403, 404, 409, 503)
  async failover(
    @Param('name', clusterNameParam()) name: string,
    @Body() body: FailoverRequestDto,
    @CurrentPrincipal() principal: Principal,
    @Query(
      'dryRun',
      new ParseBoolPipe({ optional: true, exceptionFactory: () => VigilError.validation([{ field: 'dryRun', reason: 'must be true or false' }]) }),
    )
    dryRun?: boolean,
  ): Promise<FailoverDetailDto | DryRunDto> {
    if (dryRun) {
      const { cluster, ranking, target, acceptDataLoss, evidence } = await this.failovers.dryRun(name, body.target, body.acceptDataLoss ?? false);
      return { cluster: cluster.name, epoch: cluster.epoch, target, candidates: ranking.candidates, excluded: ranking.excluded, acceptDataLoss, evidence };
    }
    const id = await this.actions.failover(name, { principal, via: 'rest' }, body);
    const record = (await this.store.get(id))!;
    return { ...FailoverDto.from(record), steps: FailoverStepDto.list(record.steps ?? []) };
  }

  @Post('switchover')
  @Idempotent()
  @HttpCode(200)
  @RequireRole('operator')
  @ApiOperation({
    summary: 'Planned, lossless switchover to `target` (or the best candidate) with Redis FAILOVER TO … TIMEOUT',
    description:
      'Answers when it is done. If the target cannot catch up in time, Redis aborts and the record says `aborted`; the master stays. ' +
      'Refused with 409 while the cluster is in maintenance unless `ignoreMaintenance: true`, and while another failover runs.',
  })
  @ApiParam({ name: 'name', description: 'Cluster name' })
  @ApiOkResponse({ type: FailoverDetailDto })
  @ApiErrors(400, 403, 404, 409, 503)
  async switchover(
    @Param('name', clusterNameParam()) name: string,
    @Body() body: FailoverRequestDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<FailoverDetailDto> {
    const id = await this.actions.switchover(name, { principal, via: 'rest' }, body);
    const record = (await this.store.get(id))!;
    return { ...FailoverDto.from(record), steps: FailoverStepDto.list(record.steps ?? []) };
  }

  @Put('maintenance')
  @Idempotent()
  @RequireRole('operator')
  @ApiOperation({ summary: 'Maintenance until a time: no automatic failover meanwhile' })
  @ApiParam({ name: 'name', description: 'Cluster name' })
  @ApiOkResponse({ type: ClusterDto })
  @ApiErrors(400, 403, 404, 409)
  async startMaintenance(
    @Param('name', clusterNameParam()) name: string,
    @Body() body: MaintenanceDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<ClusterDto> {
    if (body.until.getTime() <= Date.now()) throw VigilError.validation([{ field: 'until', reason: 'must be in the future' }]);
    const view = await this.actions.startMaintenance(name, { principal, via: 'rest' }, body.until, body.reason, body.expectedEpoch);
    return ClusterDto.from(view.cluster, view.nodes);
  }

  @Delete('maintenance')
  @Idempotent()
  @RequireRole('operator')
  @ApiOperation({ summary: 'End maintenance now' })
  @ApiParam({ name: 'name', description: 'Cluster name' })
  @ApiOkResponse({ type: ClusterDto })
  @ApiErrors(400, 403, 404)
  async endMaintenance(@Param('name', clusterNameParam()) name: string, @CurrentPrincipal() principal: Principal): Promise<ClusterDto> {
    const view = await this.actions.endMaintenance(name, { principal, via: 'rest' });
    return ClusterDto.from(view.cluster, view.nodes);
  }
}
