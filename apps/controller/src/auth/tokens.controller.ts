import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-docs.js';
import { VigilError } from '../common/errors.js';
import { uuidParam } from '../common/params.js';
import { AuthService } from './auth.service.js';
import { CreatedTokenDto, CreateTokenDto, TokenDto, TokenListDto } from './dto/token.dto.js';
import { CurrentPrincipal, type Principal, RequireRole } from './principal.js';

@ApiTags('tokens')
@Controller('tokens')
@RequireRole('admin')
@ApiErrors(403)
export class TokensController {
  constructor(private readonly auth: AuthService) {}

  @Post()
  @ApiOperation({ summary: 'Create an API token (shown once)' })
  @ApiCreatedResponse({ type: CreatedTokenDto })
  @ApiErrors(400, 409)
  async create(@Body() body: CreateTokenDto, @CurrentPrincipal() principal: Principal): Promise<CreatedTokenDto> {
    if (body.expiresAt && body.expiresAt.getTime() <= Date.now()) throw VigilError.validation([{ field: 'expiresAt', reason: 'must be in the future' }]);
    const { row, token } = await this.auth.create(body.name, body.role, principal, body.expiresAt ?? null);
    return Object.assign(new CreatedTokenDto(), TokenDto.from(row), { token });
  }

  @Get()
  @ApiOperation({ summary: 'List API tokens (never their secrets)' })
  @ApiOkResponse({ type: TokenListDto })
  async list(): Promise<TokenListDto> {
    return { items: (await this.auth.list()).map((row) => TokenDto.from(row)) };
  }

  @Delete(':id')
  @HttpCode(200)
  @ApiOperation({ summary: 'Revoke an API token' })
  @ApiOkResponse({ type: TokenDto })
  @ApiErrors(400, 404)
  async revoke(@Param('id', uuidParam('id')) id: string, @CurrentPrincipal() principal: Principal): Promise<TokenDto> {
    return TokenDto.from(await this.auth.revoke(id, principal));
  }
}
