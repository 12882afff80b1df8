/** The API's role ladder (viewer < operator < admin; agent tokens are for agents only). */
const RANK: Record<string, number> = { viewer: 1, operator: 2, admin: 3 };

export function can(role: string | undefined, needed: 'viewer' | 'operator' | 'admin'): boolean {
  return (RANK[role ?? ''] ?? 0) >= RANK[needed]!;
}

/** Why a control is disabled, for its tooltip and the text beside it. */
export function needs(role: string | undefined, needed: 'operator' | 'admin'): string | null {
  return can(role, needed) ? null : `Needs the ${needed} role; you are signed in as ${role ?? 'nobody'}.`;
}
