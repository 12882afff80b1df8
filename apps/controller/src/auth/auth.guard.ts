import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { roleSatisfies, type TokenRole } from '../../../../libs/contracts/src/index.js';
import { ErrorCode, VigilError } from '../common/errors.js';
import { AuthService } from './auth.service.js';
import { ANY_ROLE, type Principal, PUBLIC_ROUTE, REQUIRED_ROLE } from './principal.js';

/**
 * Global guard: every route needs a valid bearer token unless marked `@Public()`; routes state the
 * weakest role they accept with `@RequireRole` (or `@AnyRole` for every authenticated caller), and
 * routes that forget to say require `admin`.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly auth: AuthService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)) return true;
    const req = context.switchToHttp().getRequest<Request & { principal?: Principal }>();
    const header = req.headers.authorization;
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (header && !match) throw new VigilError(ErrorCode.UNAUTHENTICATED, 'Authorization header must be "Bearer <token>"');
    const principal = await this.auth.authenticate(match?.[1], req.socket.remoteAddress);
    req.principal = principal;
    if (this.reflector.getAllAndOverride<boolean>(ANY_ROLE, targets)) return true;
    const required = this.reflector.getAllAndOverride<TokenRole>(REQUIRED_ROLE, targets) ?? 'admin';
    if (!roleSatisfies(principal.role, required)) {
      throw new VigilError(ErrorCode.FORBIDDEN, `this action needs the ${required} role; the token has ${principal.role}`);
    }
    return true;
  }
}
