import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, Req } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { CurrentPrincipal, type Principal, RequireRole } from '../auth/principal.js';
import { ApiErrors } from '../common/api-docs.js';
import { clusterNameParam, uuidParam } from '../common/params.js';
import { ClusterDto, ClusterListDto, NodeDto, NodeListDto } from './dto/cluster-response.dto.js';
import { ClusterListQueryDto, CreateClusterDto, NodeInputDto, NodeUpdateDto, UpdateClusterDto } from './dto/cluster.dto.js';
import { Idempotent } from '../idempotency/idempotency.interceptor.js';
import { TopologyService } from './topology.service.js';

const requestIdOf = (req: FastifyRequest): string => req.id;

/** The `name` path parameter, on the routes that have one. */
const CLUSTER_NAME = ApiParam({ name: 'name', description: 'Cluster name', example: 'orders', required: true, schema: { type: 'string' } });

@ApiTags('clusters')
@Controller('clusters')
export class ClustersController {
  constructor(private readonly topology: TopologyService) {}

  @Post()
  @RequireRole('operator')
  @ApiOperation({ summary: 'Create a cluster with its nodes; the master is found by asking the nodes' })
  @ApiCreatedResponse({ type: ClusterDto })
  @ApiErrors(400, 403, 409)
  async create(@Body() body: CreateClusterDto, @CurrentPrincipal() principal: Principal, @Req() req: FastifyRequest): Promise<ClusterDto> {
    const view = await this.topology.create(body, principal, requestIdOf(req));
    return ClusterDto.from(view.cluster, view.nodes);
  }

  @Get()
  @RequireRole('viewer')
  @ApiOperation({ summary: 'List clusters with their nodes, in name order, a page at a time (100 unless `limit` says otherwise)' })
  @ApiOkResponse({ type: ClusterListDto })
  @ApiErrors(400)
  async list(@Query() query: ClusterListQueryDto): Promise<ClusterListDto> {
    const page = await this.topology.list({ after: query.after, limit: query.limit ?? 100 });
    return { items: page.views.map((v) => ClusterDto.from(v.cluster, v.nodes)), next: page.next };
  }

  @Get(':name')
  @CLUSTER_NAME
  @RequireRole('viewer')
  @ApiOperation({ summary: 'One cluster with its nodes' })
  @ApiOkResponse({ type: ClusterDto })
  @ApiErrors(400, 404)
  async get(@Param('name', clusterNameParam()) name: string): Promise<ClusterDto> {
    const view = await this.topology.get(name);
    return ClusterDto.from(view.cluster, view.nodes);
  }

  @Patch(':name')
  @CLUSTER_NAME
  @Idempotent()
  @RequireRole('operator')
  @ApiOperation({ summary: 'Change cluster settings (nodes have their own routes)' })
  @ApiOkResponse({ type: ClusterDto })
  @ApiErrors(400, 403, 404, 409)
  async update(@Param('name', clusterNameParam()) name: string, @Body() body: UpdateClusterDto, @CurrentPrincipal() principal: Principal): Promise<ClusterDto> {
    const { expectedEpoch, ...settings } = body;
    const view = await this.topology.update(name, settings, principal, expectedEpoch);
    return ClusterDto.from(view.cluster, view.nodes);
  }

  @Delete(':name')
  @CLUSTER_NAME
  @HttpCode(204)
  @RequireRole('admin')
  @ApiOperation({ summary: 'Stop managing a cluster (its failover history and events are kept)' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiErrors(400, 403, 404)
  async remove(@Param('name', clusterNameParam()) name: string, @CurrentPrincipal() principal: Principal): Promise<void> {
    await this.topology.remove(name, principal);
  }

  @Get(':name/nodes')
  @CLUSTER_NAME
  @RequireRole('viewer')
  @ApiOperation({ summary: "A cluster's nodes" })
  @ApiOkResponse({ type: NodeListDto })
  @ApiErrors(400, 404)
  async nodes(@Param('name', clusterNameParam()) name: string): Promise<NodeListDto> {
    return { items: (await this.topology.get(name)).nodes.map((n) => NodeDto.from(n)) };
  }

  @Post(':name/nodes')
  @CLUSTER_NAME
  @RequireRole('operator')
  @ApiOperation({ summary: 'Add a node to a cluster' })
  @ApiCreatedResponse({ type: NodeDto })
  @ApiErrors(400, 403, 404, 409)
  async addNode(
    @Param('name', clusterNameParam()) name: string,
    @Body() body: NodeInputDto,
    @CurrentPrincipal() principal: Principal,
    @Req() req: FastifyRequest,
  ): Promise<NodeDto> {
    return NodeDto.from(await this.topology.addNode(name, body, principal, requestIdOf(req)));
  }

  @Patch(':name/nodes/:nodeId')
  @CLUSTER_NAME
  @RequireRole('operator')
  @ApiOperation({ summary: "Change a node's priority or zone" })
  @ApiParam({ name: 'nodeId', format: 'uuid' })
  @ApiOkResponse({ type: NodeDto })
  @ApiErrors(400, 403, 404)
  async updateNode(
    @Param('name', clusterNameParam()) name: string,
    @Param('nodeId', uuidParam('nodeId')) nodeId: string,
    @Body() body: NodeUpdateDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<NodeDto> {
    return NodeDto.from(await this.topology.updateNode(name, nodeId, body, principal));
  }

  @Delete(':name/nodes/:nodeId')
  @CLUSTER_NAME
  @HttpCode(204)
  @RequireRole('operator')
  @ApiOperation({ summary: 'Remove a node from a cluster' })
  @ApiParam({ name: 'nodeId', format: 'uuid' })
  @ApiNoContentResponse({ description: 'Removed' })
  @ApiErrors(400, 403, 404, 409)
  async removeNode(
    @Param('name', clusterNameParam()) name: string,
    @Param('nodeId', uuidParam('nodeId')) nodeId: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<void> {
    await this.topology.removeNode(name, nodeId, principal);
  }
}
