import { z } from 'zod';

/**
 * technician: launch and view runs; approver: decide approval gates;
 * scheduler: manage schedules; tier1/tier2/tier3: the 1st, 2nd and 3rd support line, who work
 * human tasks (a task escalates up the tiers when its SLA passes); admin: everything.
 */
export const roleSchema = z.enum(['technician', 'approver', 'scheduler', 'tier1', 'tier2', 'tier3', 'admin']);
export type Role = z.infer<typeof roleSchema>;

/** Who is acting. The API puts this into update arguments because workflow code cannot see the caller. */
export const principalSchema = z.object({
  id: z.string().min(1),
  displayName: z.string().min(1),
  roles: z.array(roleSchema).min(1),
});
export type Principal = z.infer<typeof principalSchema>;

/** Admin holds every role. */
export function hasRole(principal: Pick<Principal, 'roles'>, role: Role): boolean {
  return principal.roles.includes('admin') || principal.roles.includes(role);
}

export function hasAnyRole(principal: Pick<Principal, 'roles'>, roles: readonly Role[]): boolean {
  return roles.some((role) => hasRole(principal, role));
}
