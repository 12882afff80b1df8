import { createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
import type { TokenRole } from '../../../../libs/contracts/src/index.js';

/** Who is calling: the token behind the request. */
export interface Principal {
  tokenId: string;
  tokenName: string;
  role: TokenRole;
}

/** The actor string recorded in events for a principal. */
export function actorOf(principal: Principal): string {
  return `token:${principal.tokenName}`;
}

export const REQUIRED_ROLE = 'vigil:required-role';
export const PUBLIC_ROUTE = 'vigil:public';
export const ANY_ROLE = 'vigil:any-role';

/** The weakest role allowed to call the route (the ladder is viewer < operator < admin; agent apart). */
export const RequireRole = (role: TokenRole) => SetMetadata(REQUIRED_ROLE, role);

/**
 * Any valid token may call the route, whatever its role (`agent` included, which no rung of the ladder
 * admits); a request without one is still refused (401).
 */
export const AnyRole = () => SetMetadata(ANY_ROLE, true);

/** Marks a route as open (health, metrics). */
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);

/** Injects the authenticated principal. */
export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  return ctx.switchToHttp().getRequest<{ principal: Principal }>().principal;
});
