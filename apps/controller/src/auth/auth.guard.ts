import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { roleSatisfies } from '../../../../libs/contracts/src/index.js';
import { ErrorCode, VigilError } from '../common/errors.js';
import { AuthService } from './auth.service.js';
import type { Principal } from './principal.js';
import { routeAccess } from './route-access.js';

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

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const access = routeAccess(this.reflector, context.getHandler(), context.getClass());
    if (access.kind === 'public') return true;
    const req = context.switchToHttp().getRequest<FastifyRequest & { principal?: Principal | null }>();
    const header = req.headers.authorization;
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (header && !match) throw new VigilError(ErrorCode.UNAUTHENTICATED, 'Authorization header must be "Bearer <token>"');
    const principal = await this.auth.authenticate(match?.[1], req.socket.remoteAddress);
    req.principal = principal;
    if (access.kind === 'any') return true;
    if (!roleSatisfies(principal.role, access.role)) {
      throw new VigilError(ErrorCode.FORBIDDEN, `this action needs the ${access.role} role; the token has ${principal.role}`);
    }
    return true;
  }
}
