import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Post, Res } from '@nestjs/common';
import { ApiBody, ApiHeader, ApiNoContentResponse, ApiNotModifiedResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { CurrentPrincipal, type Principal, RequireRole } from '../auth/principal.js';
import { ApiErrors } from '../common/api-docs.js';
import { VigilError } from '../common/errors.js';
import { agentNameParam } from '../common/params.js';
import { DetectionService } from '../detection/detection.service.js';
import { TopologyCache } from '../topology/topology-cache.service.js';
import { AgentsService } from './agents.service.js';
import {
  AgentDto,
  AgentListDto,
  AgentReportDto,
  AssignmentDto,
  HeartbeatAcceptedDto,
  HeartbeatDto,
  RegisterAgentDto,
  RegistrationAcceptedDto,
  ReportAcceptedDto,
} from './dto/agent.dto.js';
import { type ReportCheck, reportValidator } from './report-validation.js';

@ApiTags('agents')
@Controller('agents')
export class AgentsController {
  /** Baseline plus the optional fields this controller advertises: strict for everything else. */
  private readonly validateReport: (body: unknown) => ReportCheck;
  private readonly reportFields: string[];

  constructor(
    private readonly agents: AgentsService,
    private readonly detection: DetectionService,
    private readonly topology: TopologyCache,
  ) {
    this.validateReport = reportValidator(agents.config.agentReportFields);
    this.reportFields = [...agents.config.agentReportFields];
  }

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

  @Get(':name/assignment')
  @RequireRole('agent')
  @ApiOperation({ summary: 'Agent: the nodes to watch, with the credentials to reach them (ETag / If-None-Match)' })
  @ApiParam({ name: 'name', description: 'Agent name' })
  @ApiHeader({ name: 'If-None-Match', required: false, description: 'The version held; 304 when it is still current' })
  @ApiOkResponse({ type: AssignmentDto })
  @ApiNotModifiedResponse({ description: 'The assignment is unchanged' })
  @ApiErrors(400, 403, 404)
  async assignment(
    @Param('name', agentNameParam()) name: string,
    @CurrentPrincipal() principal: Principal,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<AssignmentDto | undefined> {
    await this.agents.reporter(name, principal);
    const assignment = this.topology.snapshot.assignment;
    void reply.header('ETag', `"${assignment.version}"`).header('Cache-Control', 'no-store');
    if (ifNoneMatch?.split(',').some((tag) => tag.trim().replace(/^W\//, '') === `"${assignment.version}"`)) {
      void reply.code(304);
      return undefined;
    }
    return assignment;
  }

  @Post(':name/reports')
  @HttpCode(200)
  @RequireRole('agent')
  @ApiOperation({
    summary: 'Agent: one report per probe interval with the latest state of every assigned node',
    description:
      'Refused whole (400, nothing applied) when any field is invalid or unknown, or a node id is unknown. The answer lists the optional ' +
      'report fields this controller accepts beyond the baseline (`reportFields`); an agent sends only those.',
  })
  @ApiParam({ name: 'name', description: 'Agent name' })
  @ApiBody({ type: AgentReportDto })
  @ApiOkResponse({ type: ReportAcceptedDto })
  @ApiErrors(400, 403, 404, 413)
  async report(@Param('name', agentNameParam()) name: string, @Body() body: unknown, @CurrentPrincipal() principal: Principal): Promise<ReportAcceptedDto> {
    const reporter = await this.agents.reporter(name, principal);
    const checked = this.validateReport(body);
    if (checked.issues) throw VigilError.validation(checked.issues);
    this.detection.ingest(reporter, checked.report);
    return { assignment: this.topology.snapshot.assignment.version, reportFields: this.reportFields };
  }

  @Delete(':name')
  @HttpCode(204)
  @RequireRole('admin')
  @ApiOperation({ summary: 'Forget an agent (it may register again with its token)' })
  @ApiParam({ name: 'name', description: 'Agent name' })
  @ApiNoContentResponse({ description: 'Removed' })
  @ApiErrors(400, 403, 404)
  async remove(@Param('name', agentNameParam()) name: string, @CurrentPrincipal() principal: Principal): Promise<void> {
    const id = await this.agents.remove(name, principal);
    this.detection.forgetAgent(id);
    // The agent leaves detection's denominators before the answer (other replicas follow the NOTIFY).
    await this.topology.reload();
  }
}
