import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, type Principal, RequireRole } from '../auth/principal.js';
import { ApiErrors } from '../common/api-docs.js';
import { agentNameParam } from '../common/params.js';
import { AgentsService } from './agents.service.js';
import { AgentDto, AgentListDto, HeartbeatAcceptedDto, HeartbeatDto, RegisterAgentDto, RegistrationAcceptedDto } from './dto/agent.dto.js';

@ApiTags('agents')
@Controller('agents')
export class AgentsController {
  constructor(private readonly agents: AgentsService) {}

  @Get()
  @RequireRole('viewer')
  @ApiOperation({ summary: 'Registered probe agents with their last heartbeat' })
  @ApiOkResponse({ type: AgentListDto })
  @ApiErrors(403)
  async list(): Promise<AgentListDto> {
    const now = Date.now();
    const stale = this.agents.config.agentStaleAfterMs;
    return { items: (await this.agents.list()).map((a) => AgentDto.from(a, now, stale)) };
  }

  @Post('register')
  @HttpCode(200)
  @RequireRole('agent')
  @ApiOperation({ summary: 'Agent: register (or re-register) under this token' })
  @ApiOkResponse({ type: RegistrationAcceptedDto })
  @ApiErrors(400, 403, 409)
  async register(@Body() body: RegisterAgentDto, @CurrentPrincipal() principal: Principal): Promise<RegistrationAcceptedDto> {
    const agent = await this.agents.register(body, principal);
    return {
      id: agent.id,
      name: agent.name,
      heartbeatIntervalMs: this.agents.config.agentHeartbeatIntervalMs,
      staleAfterMs: this.agents.config.agentStaleAfterMs,
    };
  }

  @Post(':name/heartbeat')
  @HttpCode(200)
  @RequireRole('agent')
  @ApiOperation({ summary: 'Agent: heartbeat' })
  @ApiParam({ name: 'name', description: 'Agent name' })
  @ApiOkResponse({ type: HeartbeatAcceptedDto })
  @ApiErrors(400, 403, 404)
  async heartbeat(
    @Param('name', agentNameParam()) name: string,
    @Body() body: HeartbeatDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<HeartbeatAcceptedDto> {
    const at = await this.agents.heartbeat(name, body, principal);
    return { at: at.toISOString(), heartbeatIntervalMs: this.agents.config.agentHeartbeatIntervalMs };
  }

  @Delete(':name')
  @HttpCode(204)
  @RequireRole('admin')
  @ApiOperation({ summary: 'Forget an agent (it may register again with its token)' })
  @ApiParam({ name: 'name', description: 'Agent name' })
  @ApiNoContentResponse({ description: 'Removed' })
  @ApiErrors(400, 403, 404)
  async remove(@Param('name', agentNameParam()) name: string, @CurrentPrincipal() principal: Principal): Promise<void> {
    await this.agents.remove(name, principal);
  }
}
