import { roleSchema } from '@runbooks/contracts';
import { z } from 'zod';

/**
 * Single sign-on for people: OpenID Connect ID or access tokens (JWTs) signed by the issuer,
 * verified against its JWKS. Service tokens of the principals file keep working beside it.
 */
export const oidcConfigSchema = z
  .object({
    issuer: z.string().url(),
    /** The `aud` the tokens must carry: this API's client id (or resource) at the issuer. */
    audience: z.array(z.string().min(1)).min(1),
    jwksUrl: z.string().url(),
    /** The claim naming the person (becomes the principal id, e.g. in requestedBy). */
    idClaim: z.string().min(1).default('preferred_username'),
    nameClaim: z.string().min(1).default('name'),
    /** A claim holding runbooks roles directly (array or space-separated); dotted for nested claims, e.g. realm_access.roles. */
    rolesClaim: z.string().min(1).optional(),
    /** A claim holding the person's groups, mapped to roles by `groupRoles`. */
    groupsClaim: z.string().min(1).default('groups'),
    groupRoles: z.record(z.string(), z.array(roleSchema)).default({}),
    algorithms: z.array(z.string().min(1)).optional(),
    clockToleranceSeconds: z.number().int().min(0).max(300).default(30),
  })
  .refine((c) => c.rolesClaim !== undefined || Object.keys(c.groupRoles).length > 0, {
    message: 'set RUNBOOKS_OIDC_ROLES_CLAIM or RUNBOOKS_OIDC_GROUP_ROLES: otherwise no one signed in has a role',
    path: ['rolesClaim'],
  });
export type OidcConfig = z.output<typeof oidcConfigSchema>;

const ENV = {
  issuer: 'RUNBOOKS_OIDC_ISSUER',
  audience: 'RUNBOOKS_OIDC_AUDIENCE',
  jwksUrl: 'RUNBOOKS_OIDC_JWKS_URL',
  idClaim: 'RUNBOOKS_OIDC_ID_CLAIM',
  nameClaim: 'RUNBOOKS_OIDC_NAME_CLAIM',
  rolesClaim: 'RUNBOOKS_OIDC_ROLES_CLAIM',
  groupsClaim: 'RUNBOOKS_OIDC_GROUPS_CLAIM',
  groupRoles: 'RUNBOOKS_OIDC_GROUP_ROLES',
  algorithms: 'RUNBOOKS_OIDC_ALGORITHMS',
  clockToleranceSeconds: 'RUNBOOKS_OIDC_CLOCK_TOLERANCE_SECONDS',
} as const;

const list = (value: string | undefined) =>
  value
    ?.split(',')
    .map((v) => v.trim())
    .filter(Boolean);

/** OIDC is off unless RUNBOOKS_OIDC_ISSUER is set; then a bad setting stops the API at start, naming the variable. */
export function loadOidcConfig(env: NodeJS.ProcessEnv = process.env): OidcConfig | undefined {
  const get = (name: string) => (env[name] ? env[name] : undefined);
  if (!get(ENV.issuer)) return undefined;
  let groupRoles: unknown;
  const groupRolesText = get(ENV.groupRoles);
  if (groupRolesText) {
    try {
      groupRoles = JSON.parse(groupRolesText);
    } catch {
      throw new Error(`${ENV.groupRoles} must be JSON, e.g. {"it-oncall":["approver"],"it-admins":["admin"]}`);
    }
  }
  const tolerance = get(ENV.clockToleranceSeconds);
  const parsed = oidcConfigSchema.safeParse({
    issuer: get(ENV.issuer),
    audience: list(get(ENV.audience)),
    jwksUrl: get(ENV.jwksUrl),
    idClaim: get(ENV.idClaim),
    nameClaim: get(ENV.nameClaim),
    rolesClaim: get(ENV.rolesClaim),
    groupsClaim: get(ENV.groupsClaim),
    groupRoles,
    algorithms: list(get(ENV.algorithms)),
    clockToleranceSeconds: tolerance === undefined ? undefined : Number(tolerance),
  });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${ENV[i.path[0] as keyof typeof ENV] ?? String(i.path[0])}: ${i.message}`);
    throw new Error(`single sign-on (OIDC) is misconfigured: ${problems.join('; ')}`);
  }
  return parsed.data;
}
