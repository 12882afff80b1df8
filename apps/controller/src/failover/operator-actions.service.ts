import { Injectable, Logger } from '@nestjs/common';
import { roleSatisfies } from '../../../../libs/contracts/src/index.js';
import { AuditService } from '../audit/audit.service.js';
import { actorOf, type Principal } from '../auth/principal.js';
import { ErrorCode, VigilError } from '../common/errors.js';
import type { CachedCluster } from '../topology/topology-cache.service.js';
import { TopologyCache } from '../topology/topology-cache.service.js';
import { type ClusterView, TopologyService } from '../topology/topology.service.js';
import { OperatorRefusedError, type OperatorRefusalCode } from './failover.errors.js';
import { FailoverService } from './failover.service.js';

export { OperatorRefusedError, type OperatorRefusalCode } from './failover.errors.js';

/** The surface an operator action came through. */
export type OperatorVia = 'rest' | 'sentinel';

/** Who asks, and through which surface (the actor recorded in events follows from both). */
export interface OperatorRequest {
  principal: Principal;
  via: OperatorVia;
}

/**
 * The endpoint password (`SENTINEL_PASSWORD`) as a principal: whoever holds it may act as an operator
 * on the Sentinel endpoint. Its id is no token's (those are UUIDs), so it cannot be mistaken for one.
 */
export const SENTINEL_PASSWORD_PRINCIPAL: Readonly<Principal> = Object.freeze({
  tokenId: 'sentinel:password',
  tokenName: 'sentinel:password',
  role: 'operator',
});

/** `token:<name>` on REST; on the Sentinel endpoint `sentinel:token:<name>` or `sentinel:password`. */
export function operatorActor({ principal, via }: OperatorRequest): string {
  if (via === 'rest') return actorOf(principal);
  return principal.tokenId === SENTINEL_PASSWORD_PRINCIPAL.tokenId ? SENTINEL_PASSWORD_PRINCIPAL.tokenName : `sentinel:${actorOf(principal)}`;
}

interface FailoverOptions {
  target?: string;
  expectedEpoch?: number;
  /** REST only: act although the cluster is in maintenance. The Sentinel protocol has no such flag. */
  ignoreMaintenance?: boolean;
  acceptDataLoss?: boolean;
}

/**
 * The one authority for operator actions on every surface (REST and the Sentinel endpoint): the role,
 * maintenance and "a failover is already running" rules are decided here, every refusal is recorded
 * as an `operator.refused` event, and only then is the action handed to the engine.
 */
@Injectable()
export class OperatorActionsService {
  private readonly logger = new Logger(OperatorActionsService.name);

  constructor(
    private readonly failovers: FailoverService,
    private readonly topology: TopologyCache,
    private readonly clusters: TopologyService,
    private readonly audit: AuditService,
  ) {}

  /** A forced failover (no ODOWN needed); answers the failover record's id when it is done. */
  async failover(name: string, request: OperatorRequest, options: FailoverOptions = {}): Promise<string> {
    await this.admit('failover', name, request, options.ignoreMaintenance === true);
    return this.recordingConflicts('failover', name, request, () =>
      this.failovers.manual(name, operatorActor(request), {
        target: options.target,
        expectedEpoch: options.expectedEpoch,
        acceptDataLoss: options.acceptDataLoss,
      }),
    );
  }

  /** A planned, lossless switchover; answers the failover record's id when it is done. */
  async switchover(name: string, request: OperatorRequest, options: FailoverOptions = {}): Promise<string> {
    await this.admit('switchover', name, request, options.ignoreMaintenance === true);
    return this.recordingConflicts('switchover', name, request, () =>
      this.failovers.switchover(name, operatorActor(request), {
        target: options.target,
        expectedEpoch: options.expectedEpoch,
        acceptDataLoss: options.acceptDataLoss,
      }),
    );
  }

  /** Starts (or moves) maintenance; only the role applies. */
  async startMaintenance(name: string, request: OperatorRequest, until: Date, reason?: string, expectedEpoch?: number): Promise<ClusterView> {
    await this.requireOperator('maintenance.start', name, request);
    return this.clusters.setMaintenance(name, until, reason, request.principal, expectedEpoch);
  }

  /** Ends maintenance now; only the role applies. */
  async endMaintenance(name: string, request: OperatorRequest): Promise<ClusterView> {
    await this.requireOperator('maintenance.end', name, request);
    return this.clusters.setMaintenance(name, null, undefined, request.principal);
  }

  /** Role, then maintenance: the first rule that fails refuses the action ("already running" and "no safe candidate" are the engine's). */
  private async admit(action: string, name: string, request: OperatorRequest, ignoreMaintenance: boolean): Promise<void> {
    await this.requireOperator(action, name, request);
    const cluster = this.topology.snapshot.clustersByName.get(name);
    if (!cluster) throw VigilError.notFound(`cluster ${name}`);
    const until = cluster.maintenanceUntil;
    if (until && until.getTime() > Date.now() && !ignoreMaintenance) {
      const override = request.via === 'rest' ? '; send ignoreMaintenance: true to act anyway' : '';
      const reason = `cluster ${name} is in maintenance until ${until.toISOString()}${override}`;
      throw await this.refuse(
        action,
        cluster,
        request,
        new OperatorRefusedError(
          'maintenance',
          ErrorCode.CONFLICT,
          reason,
          request.via === 'rest' ? [{ field: 'ignoreMaintenance', reason }] : undefined,
          until,
        ),
      );
    }
  }

  private async requireOperator(action: string, name: string, request: OperatorRequest): Promise<void> {
    if (roleSatisfies(request.principal.role, 'operator')) return;
    throw await this.refuse(
      action,
      this.topology.snapshot.clustersByName.get(name),
      request,
      new OperatorRefusedError('forbidden', ErrorCode.FORBIDDEN, `this action needs the operator role; the token has ${request.principal.role}`),
    );
  }

  /** Runs the engine's part; what it refuses (a failover running, no safe candidate, the epoch moved) is recorded too. */
  private async recordingConflicts(action: string, name: string, request: OperatorRequest, run: () => Promise<string>): Promise<string> {
    try {
      return await run();
    } catch (err) {
      if (err instanceof VigilError && err.code === ErrorCode.CONFLICT) {
        const code = err instanceof OperatorRefusedError ? err.refusal : 'conflict';
        await this.record(action, this.topology.snapshot.clustersByName.get(name), request, code, err.message);
      }
      throw err;
    }
  }

  private async refuse(
    action: string,
    cluster: CachedCluster | undefined,
    request: OperatorRequest,
    error: OperatorRefusedError,
  ): Promise<OperatorRefusedError> {
    await this.record(action, cluster, request, error.refusal, error.message);
    return error;
  }

  /** Best effort: a refusal is answered even when the event cannot be written. */
  private async record(action: string, cluster: CachedCluster | undefined, request: OperatorRequest, code: OperatorRefusalCode, reason: string): Promise<void> {
    const actor = operatorActor(request);
    await this.audit
      .record({
        type: 'operator.refused',
        actor,
        cluster: cluster ? { id: cluster.id, name: cluster.name } : undefined,
        data: { action, via: request.via, code, reason, role: request.principal.role },
      })
      .catch((err: unknown) => this.logger.warn({ err, actor, action, code }, 'could not record operator.refused'));
  }
}
