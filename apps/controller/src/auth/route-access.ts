import type { Reflector } from '@nestjs/core';
import { roleSatisfies, TOKEN_ROLES, type TokenRole } from '../../../../libs/contracts/src/index.js';
import { ANY_ROLE, PUBLIC_ROUTE, REQUIRED_ROLE } from './principal.js';

/**
 * Who may call a route, read from its decorators exactly as `AuthGuard` reads them: `@Public()` first,
 * then `@AnyRole()`, then `@RequireRole` (the handler's over its controller's); a route that says
 * nothing needs `admin` (`defaulted`). The OpenAPI document and the fast master route use the same reading.
 */
export type RouteAccess = { kind: 'public' } | { kind: 'any' } | { kind: 'role'; role: TokenRole; defaulted: boolean };

/** A handler or a controller class, as `Reflector` takes them. */
type Target = Parameters<Reflector['getAllAndOverride']>[1][number];

export function routeAccess(reflector: Reflector, handler: Target, controller: Target): RouteAccess {
  const targets = [handler, controller];
  if (reflector.getAllAndOverride<boolean | undefined>(PUBLIC_ROUTE, targets)) return { kind: 'public' };
  if (reflector.getAllAndOverride<boolean | undefined>(ANY_ROLE, targets)) return { kind: 'any' };
  const role = reflector.getAllAndOverride<TokenRole | undefined>(REQUIRED_ROLE, targets);
  return role ? { kind: 'role', role, defaulted: false } : { kind: 'role', role: 'admin', defaulted: true };
}

/** The token roles that pass the guard on a route with this access (a public route needs no token at all). */
export function rolesAdmitted(access: RouteAccess): TokenRole[] {
  if (access.kind !== 'role') return [...TOKEN_ROLES];
  return TOKEN_ROLES.filter((held) => roleSatisfies(held, access.role));
}
