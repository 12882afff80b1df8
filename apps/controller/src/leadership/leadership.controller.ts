import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { RequireRole } from '../auth/principal.js';
import { ApiErrors } from '../common/api-docs.js';
import { LeadershipService } from './leadership.service.js';

export class LeaseDto {
  @ApiProperty({ description: 'Controller replica holding the lease (`<CONTROLLER_NAME>/<instance>`)' }) holder: string;
  @ApiProperty({ description: 'Grows with every new holder' }) term: number;
  @ApiProperty({ format: 'date-time' }) acquiredAt: string;
  @ApiProperty({ format: 'date-time' }) renewedAt: string;
  @ApiProperty({ format: 'date-time', description: 'Database clock; a standby may take over after it' }) expiresAt: string;
}

export class LeadershipDto {
  @ApiProperty({ description: 'This replica (`<CONTROLLER_NAME>/<instance>`)' }) self: string;
  @ApiProperty({ description: 'This replica holds the lease and acts; the others stand by and serve reads' }) leader: boolean;
  @ApiPropertyOptional({ type: LeaseDto, nullable: true }) lease: LeaseDto | null;
}

@ApiTags('controllers')
@Controller('leadership')
export class LeadershipController {
  constructor(private readonly leadership: LeadershipService) {}

  @Get()
  @RequireRole('viewer')
  @ApiOperation({ summary: 'Which controller replica leads, as this replica sees it' })
  @ApiOkResponse({ type: LeadershipDto })
  @ApiErrors(403)
  async get(): Promise<LeadershipDto> {
    const lease = await this.leadership.current();
    return {
      self: this.leadership.identity,
      leader: this.leadership.isLeader(),
      lease: lease
        ? {
            holder: lease.holder,
            term: lease.term,
            acquiredAt: lease.acquiredAt.toISOString(),
            renewedAt: lease.renewedAt.toISOString(),
            expiresAt: lease.expiresAt.toISOString(),
          }
        : null,
    };
  }
}
