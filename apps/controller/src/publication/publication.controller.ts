import { Controller, Get, Param } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { RequireRole } from '../auth/principal.js';
import { ApiErrors } from '../common/api-docs.js';
import { clusterNameParam } from '../common/params.js';
import { PublicationDto } from './dto/publication.dto.js';
import { PublicationService } from './publication.service.js';

@ApiTags('clusters')
@Controller('clusters')
export class PublicationController {
  constructor(private readonly publications: PublicationService) {}

  @Get(':name/publication')
  @RequireRole('viewer')
  @ApiOperation({
    summary: "What each publishing channel of this controller tells clients about the cluster's master now, and whether they agree with the record",
    description:
      'REST, the Sentinel endpoint and the DNS responder are asked through the code that answers their clients (no socket); RFC 2136 updates show the last record written (the external server is not asked). ' +
      'Channels turned off in the configuration are left out. Also the event log position and the webhooks that carry the cluster’s events.',
  })
  @ApiParam({ name: 'name', description: 'Cluster name' })
  @ApiOkResponse({ type: PublicationDto })
  @ApiErrors(400, 404)
  async publication(@Param('name', clusterNameParam()) name: string): Promise<PublicationDto> {
    return PublicationDto.from(await this.publications.publication(name));
  }
}
