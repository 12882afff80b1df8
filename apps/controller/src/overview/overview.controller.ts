import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequireRole } from '../auth/principal.js';
import { ApiErrors } from '../common/api-docs.js';
import { OverviewDto } from './dto/overview.dto.js';
import { OverviewService } from './overview.service.js';

@ApiTags('clusters')
@Controller('overview')
export class OverviewController {
  constructor(private readonly overviews: OverviewService) {}

  @Get()
  @RequireRole('viewer')
  @ApiOperation({
    summary: 'Every cluster at a glance: a health label with its reasons, replicas, lag, failovers and refusals',
    description:
      "From this controller's memory (topology, detection's views, the leader's decisions) and a failover history re-read only when it changes; any replica answers (`leader` says whether this one decides).",
  })
  @ApiOkResponse({ type: OverviewDto })
  @ApiErrors()
  overview(): Promise<OverviewDto> {
    return this.overviews.overview();
  }
}
