import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-docs.js';
import { WhoamiDto } from './dto/whoami.dto.js';
import { AnyRole, CurrentPrincipal, type Principal } from './principal.js';

@ApiTags('tokens')
@Controller('whoami')
export class WhoamiController {
  @Get()
  @AnyRole()
  @ApiOperation({ summary: 'The token behind this request: its id, name and role (any valid token, agent tokens included)' })
  @ApiOkResponse({ type: WhoamiDto })
  @ApiErrors()
  whoami(@CurrentPrincipal() principal: Principal): WhoamiDto {
    return WhoamiDto.from(principal);
  }
}
