/** Roles a bearer token can hold. `viewer` < `operator` < `admin`; `agent` is a separate lane. */
export const TOKEN_ROLES = ['viewer', 'operator', 'admin', 'agent'] as const;
export type TokenRole = (typeof TOKEN_ROLES)[number];

/** Roles that form the human/tool ladder, weakest first. */
export const ROLE_LADDER: readonly TokenRole[] = ['viewer', 'operator', 'admin'];

/**
 * Whether a token with role `held` may call an endpoint that requires `required`.
 * The ladder is ordered; `agent` satisfies only `agent`, and nothing but `agent` satisfies `agent`.
 */
export function roleSatisfies(held: TokenRole, required: TokenRole): boolean {
  if (required === 'agent' || held === 'agent') return held === required;
  return ROLE_LADDER.indexOf(held) >= ROLE_LADDER.indexOf(required);
}
