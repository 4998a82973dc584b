import { z } from 'zod';
import { hasAnyRole, roleSchema, type Role } from './principal';

/**
 * A secret is named, never given: `secret:backup/projects` names a definition of the secrets
 * configuration, which says where the value is kept (one backend) and who may use it. Only the
 * reference enters workflow history; the activity that needs the value resolves it, after checking
 * the definition again. Arbitrary variables and paths (`env:PATH`, `file:/etc/shadow`) are refused.
 */
export const SECRET_REF_PREFIX = 'secret:';

const NAME_PART = '[a-z0-9][a-z0-9_.-]{0,63}';
const SECRET_NAME = `${NAME_PART}(?:/${NAME_PART}){0,3}`;

export const secretNameSchema = z
  .string()
  .max(200)
  .regex(new RegExp(`^${SECRET_NAME}$`), 'must be a secret name: lowercase segments of letters, digits, _ . - joined by /');

export const secretRefSchema = z
  .string()
  .max(210)
  .regex(
    new RegExp(`^${SECRET_REF_PREFIX}${SECRET_NAME}$`),
    'must be a secret reference: secret:<name> naming a secret of the configuration, e.g. secret:backup/projects (never the secret itself, nor env: or file:)',
  );
export type SecretRef = z.infer<typeof secretRefSchema>;

/** The name a valid reference points at. */
export function secretNameOf(ref: SecretRef): string {
  return ref.slice(SECRET_REF_PREFIX.length);
}

/** Environment variables a secret may be read from all start with this, so no other variable of the worker is reachable. */
export const SECRET_ENV_PREFIX = 'RUNBOOKS_SECRET_';

/** A relative path of `/`-joined segments that never climbs out (no `.` or `..` segment). */
const relativePath = (what: string) =>
  z
    .string()
    .max(500)
    .regex(/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/, `must be ${what}: segments of letters, digits, _ . - joined by /`)
    .refine((p) => !p.split('/').some((part) => part === '..' || part === '.'), "must not contain '.' or '..' segments");

/** Where a secret's value is kept: exactly one backend per secret. */
export const secretSourceSchema = z.discriminatedUnion('backend', [
  z.strictObject({
    backend: z.literal('env'),
    variable: z
      .string()
      .regex(new RegExp(`^${SECRET_ENV_PREFIX}[A-Z0-9_]{1,100}$`), `must be an environment variable named ${SECRET_ENV_PREFIX}...`),
  }),
  z.strictObject({
    backend: z.literal('file'),
    /** Relative to the secrets folder; no `..`, and a symlink leading out of the folder is refused when read. */
    file: relativePath('a path relative to the secrets folder'),
  }),
  z.strictObject({
    backend: z.literal('vault'),
    /** The secret's path in the KV v2 mount (`RUNBOOKS_VAULT_MOUNT`), e.g. runbooks/backup. */
    path: relativePath('a KV path'),
    /** The key inside the secret's data. */
    key: z.string().min(1).max(200),
  }),
]);
export type SecretSource = z.infer<typeof secretSourceSchema>;

export const secretDefinitionSchema = z.strictObject({
  name: secretNameSchema,
  description: z.string().max(500).optional(),
  source: secretSourceSchema,
  /** The runbooks whose runs may use it; none for a key of the service itself (a payload codec key). */
  runbooks: z.array(z.string().min(1).max(63)).max(50),
  /** Who may launch (or schedule) a run that names it; admin always may. */
  roles: z.array(roleSchema),
  /**
   * For a backup repository's password: the repository locations (restic URLs, exactly) it may be
   * used with. A password that names no repository cannot be used as one: otherwise a run against a
   * repository made with a guessed password would tell whether the guess is right.
   */
  repositories: z.array(z.string().min(1).max(2000)).max(100).optional(),
});
export type SecretDefinition = z.infer<typeof secretDefinitionSchema>;

export const secretCatalogSchema = z
  .strictObject({
    /** The embedded default's catalog says so; never use its secrets outside a laptop. */
    demo: z.boolean().optional(),
    secrets: z.array(secretDefinitionSchema).max(10_000),
  })
  .superRefine((catalog, ctx) => {
    const seen = new Set<string>();
    catalog.secrets.forEach((s, i) => {
      if (seen.has(s.name)) ctx.addIssue({ code: 'custom', message: `duplicate secret name ${s.name}`, path: ['secrets', i, 'name'] });
      seen.add(s.name);
    });
  });
export type SecretCatalogContent = z.infer<typeof secretCatalogSchema>;

/**
 * Who uses a secret, for what. Fields left out are not checked; the worker learns the requester's
 * roles from the run's LaunchCredential (assertion.ts), verified with the API's keys.
 */
export interface SecretUse {
  runbook?: string;
  roles?: readonly Role[];
  /** The backup repository the secret is to open (a password). */
  repositoryUrl?: string;
}

/** Why `definition` may not be used so, or undefined when it may. Names the secret, never its value. */
export function secretUseRefusal(definition: SecretDefinition, use: SecretUse): string | undefined {
  const name = `secret ${definition.name}`;
  if (use.runbook !== undefined && !definition.runbooks.includes(use.runbook)) {
    return `${name} may not be used by the runbook ${use.runbook} (allowed: ${definition.runbooks.join(', ')})`;
  }
  if (use.roles !== undefined && !hasAnyRole({ roles: [...use.roles] }, definition.roles)) {
    return `${name} may be used only by ${definition.roles.join(', ') || 'admin'}`;
  }
  if (use.repositoryUrl !== undefined && !(definition.repositories ?? []).includes(use.repositoryUrl)) {
    return definition.repositories?.length
      ? `${name} is not the password of this repository (it opens: ${definition.repositories.join(', ')})`
      : `${name} names no repository it opens, so it cannot be used as a repository password`;
  }
  return undefined;
}
