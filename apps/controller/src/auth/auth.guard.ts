import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { roleSatisfies } from '../../../../libs/contracts/src/index.js';
import { ErrorCode, VigilError } from '../common/errors.js';
import { AuthService } from './auth.service.js';
import type { Principal } from './principal.js';
import { type RouteAccess, routeAccess } from './route-access.js';

/**
 * Global guard: every route needs a valid bearer token unless marked `@Public()`; routes state the
 * weakest role they accept with `@RequireRole` (or `@AnyRole` for every authenticated caller), and
 * routes that forget to say require `admin` (`routeAccess`, which the OpenAPI document is generated from).
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly auth: AuthService,
  ) {}

  /** Each route's access rule (by controller class, then handler), read once from its decorators. */
  private readonly accessByRoute = new WeakMap<object, WeakMap<object, RouteAccess>>();

  /** A token verified here within the cache's lifetime is checked without a promise; others are verified. */
  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const [handler, controller] = [context.getHandler(), context.getClass()];
    let byHandler = this.accessByRoute.get(controller);
    if (byHandler === undefined) this.accessByRoute.set(controller, (byHandler = new WeakMap()));
    let access = byHandler.get(handler);
    if (access === undefined) byHandler.set(handler, (access = routeAccess(this.reflector, handler, controller)));
    if (access.kind === 'public') return true;
    const req = context.switchToHttp().getRequest<FastifyRequest & { principal?: Principal | null }>();
    const header = req.headers.authorization;
    const match = header ? BEARER.exec(header) : null;
    if (header && !match) throw new VigilError(ErrorCode.UNAUTHENTICATED, 'Authorization header must be "Bearer <token>"');
    const cached = match ? this.auth.cachedPrincipal(match[1]!) : undefined;
    if (cached !== undefined) return admit(req, cached, access);
    return this.auth.authenticate(match?.[1], req.socket.remoteAddress).then((principal) => admit(req, principal, access));
  }
}

/** `Authorization: Bearer <token>`, the token captured. */
export const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** Whether the principal's role is enough for the route. */
export function allows(principal: Principal, access: RouteAccess): boolean {
  return access.kind !== 'role' || roleSatisfies(principal.role, access.role);
}

/** Refuses a principal whose role is below the route's (403). */
export function assertAllowed(principal: Principal, access: RouteAccess): void {
  if (access.kind === 'role' && !roleSatisfies(principal.role, access.role)) {
    throw new VigilError(ErrorCode.FORBIDDEN, `this action needs the ${access.role} role; the token has ${principal.role}`);
  }
}

/** Records the caller on the request, and refuses a role below the route's. */
function admit(req: { principal?: Principal | null }, principal: Principal, access: RouteAccess): true {
  req.principal = principal;
  assertAllowed(principal, access);
  return true;
}
