import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import { actorOf, type Principal } from '../auth/principal.js';
import { ErrorCode, VigilError } from '../common/errors.js';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../config/config.js';
import { AgentEntity } from './agent.entity.js';
import type { HeartbeatDto, RegisterAgentDto } from './dto/agent.dto.js';

const BINDING_TTL_MS = 30_000;

/**
 * Agent registration and liveness. An agent name is bound to the token that first registers it, so
 * one agent's token cannot speak for another.
 */
@Injectable()
export class AgentsService {
  /** name → binding, so a report costs no query; re-read after 30 s (a removal elsewhere is seen by then). */
  private readonly bindings = new Map<string, { id: string; tokenId: string | null; zone: string; readAt: number }>();

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly audit: AuditService,
    @Inject(CONTROLLER_CONFIG) readonly config: ControllerConfig,
  ) {}

  async register(input: RegisterAgentDto, by: Principal): Promise<AgentEntity> {
    try {
      return await this.registerOnce(input, by);
    } catch (err) {
      // An agent registers with every controller replica at once: two first registrations of one name
      // race on the insert. The loser tries again and finds the winner's row (bound to the same token).
      const code = (err as { driverError?: { code?: string; constraint?: string } }).driverError;
      if (code?.code !== '23505' || code.constraint !== 'uq_agents_name') throw err;
      return this.registerOnce(input, by);
    }
  }

  private registerOnce(input: RegisterAgentDto, by: Principal): Promise<AgentEntity> {
    return this.db.transaction(async (em) => {
      const now = new Date();
      const existing = await em.findOne(AgentEntity, { where: { name: input.name }, lock: { mode: 'pessimistic_write' } });
      if (existing && existing.tokenId !== by.tokenId) {
        throw VigilError.conflict(`agent name ${input.name} is bound to another token`, 'name');
      }
      const agent = existing ?? em.create(AgentEntity, { name: input.name, tokenId: by.tokenId, watchClusters: null });
      const changed = !existing || existing.zone !== input.zone || existing.version !== input.version;
      Object.assign(agent, { zone: input.zone, version: input.version, lastSeenAt: now, startedAt: now });
      await em.save(agent);
      this.bindings.delete(input.name);
      if (changed) {
        await this.audit.record(
          {
            type: existing ? 'agent.reregistered' : 'agent.registered',
            actor: `agent:${input.name}`,
            data: { agentId: agent.id, zone: input.zone, version: input.version, token: by.tokenName },
          },
          em,
        );
      }
      return agent;
    });
  }

  /** Stamps the agent's last-seen time. Heartbeats are not events: they would drown the log. */
  async heartbeat(name: string, input: HeartbeatDto, by: Principal): Promise<Date> {
    const result = await this.db
      .createQueryBuilder()
      .update(AgentEntity)
      .set({ lastSeenAt: () => 'now()', version: input.version, startedAt: () => 'now() - make_interval(secs => :uptimeS)' })
      .setParameter('uptimeS', input.uptimeMs / 1000)
      .where('name = :name AND token_id = :tokenId', { name, tokenId: by.tokenId })
      .returning('"last_seen_at"')
      .execute();
    const rows = result.raw as { last_seen_at: Date }[];
    if (rows.length === 1) return rows[0]!.last_seen_at;
    const agent = await this.db.getRepository(AgentEntity).findOneBy({ name });
    if (!agent) throw VigilError.notFound(`agent ${name} (register first)`);
    throw new VigilError(ErrorCode.FORBIDDEN, `agent ${name} is bound to another token`);
  }

  /**
   * Who is speaking for agent `name`: 404 when no such agent is registered (the agent registers
   * again), 403 when the name is bound to another token.
   */
  async reporter(name: string, by: Principal): Promise<{ id: string; name: string; zone: string }> {
    const now = Date.now();
    let binding = this.bindings.get(name);
    if (!binding || now - binding.readAt > BINDING_TTL_MS) {
      let agent: AgentEntity | null;
      try {
        agent = await this.db.getRepository(AgentEntity).findOneBy({ name });
      } catch (err) {
        // PostgreSQL unreachable: the binding read before stands (reports keep feeding detection and the failsafe).
        if (binding) return this.bound(binding, name, by);
        throw err;
      }
      if (!agent) {
        this.bindings.delete(name);
        throw VigilError.notFound(`agent ${name} (register first)`);
      }
      binding = { id: agent.id, tokenId: agent.tokenId, zone: agent.zone, readAt: now };
      this.bindings.set(name, binding);
    }
    return this.bound(binding, name, by);
  }

  private bound(binding: { id: string; tokenId: string | null; zone: string }, name: string, by: Principal): { id: string; name: string; zone: string } {
    if (binding.tokenId !== by.tokenId) throw new VigilError(ErrorCode.FORBIDDEN, `agent ${name} is bound to another token`);
    return { id: binding.id, name, zone: binding.zone };
  }

  list(): Promise<AgentEntity[]> {
    return this.db.getRepository(AgentEntity).find({ order: { zone: 'ASC', name: 'ASC' } });
  }

  /** Returns the removed agent's id. */
  async remove(name: string, by: Principal): Promise<string> {
    return this.db.transaction(async (em) => {
      const agent = await em.findOneBy(AgentEntity, { name });
      if (!agent) throw VigilError.notFound(`agent ${name}`);
      await em.delete(AgentEntity, { id: agent.id });
      this.bindings.delete(name);
      await this.audit.record({ type: 'agent.removed', actor: actorOf(by), data: { agentId: agent.id, name, zone: agent.zone } }, em);
      return agent.id;
    });
  }
}
