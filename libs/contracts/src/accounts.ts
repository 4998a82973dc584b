import { z } from 'zod';
import { approvalPolicyInputSchema } from './data-restore';
import { isoInstant, singleLine } from './text';

/** A directory username: what the joiner makes and the other account runbooks name. */
export const usernameSchema = z
  .string()
  .regex(/^[a-z][a-z0-9]{0,31}$/, 'must be a username: a lowercase letter, then up to 31 lowercase letters or digits');

/** A person's name part: letters (any script), spaces, apostrophes, dots and dashes. */
const namePart = (field: string) =>
  z
    .string()
    .min(1)
    .max(64)
    .regex(/^\p{L}[\p{L}\p{M} .'-]*$/u, `${field} must be a name: letters, spaces, apostrophes, dots and dashes`);

const emailSchema = z.email().max(254);

const roleNameSchema = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,62}$/, 'must be a role of the role catalogue (lowercase letters, digits, dashes)');
const groupNameSchema = z.string().regex(/^[a-z][a-z0-9_-]{0,63}$/, 'must be a group name (lowercase letters, digits, _ and -)');
const permissionSchema = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,62}:[a-z][a-z0-9-]{0,62}$/, 'must be an application permission <app>:<permission>');

/**
 * The role catalogue (configuration, a JSON file on the worker: RUNBOOKS_ACCOUNT_ROLES_FILE):
 * what each job role gets. Privileged groups make the joiner wait for an approval.
 */
export const accountRoleSchema = z.strictObject({
  name: roleNameSchema,
  title: singleLine(200).min(1),
  /** Unix groups in the directory. */
  groups: z.array(groupNameSchema).max(100).default([]),
  /** Groups that carry admin rights: a joiner or mover adding one waits for an approver. */
  privilegedGroups: z.array(groupNameSchema).max(100).default([]),
  /** Application permissions (groupOfNames entries `cn=<app>:<permission>` in the directory). */
  permissions: z.array(permissionSchema).max(100).default([]),
  /** Groups given rwx on the person's home drive by ACL (setfacl), e.g. the team's assistants. */
  homeAclGroups: z.array(groupNameSchema).max(20).default([]),
});
export type AccountRole = z.infer<typeof accountRoleSchema>;

export const accountRoleCatalogSchema = z.strictObject({ roles: z.array(accountRoleSchema).max(1000) });
export type AccountRoleCatalog = z.infer<typeof accountRoleCatalogSchema>;

export const accountJoinerInputSchema = z.strictObject({
  givenName: namePart('givenName'),
  surname: namePart('surname'),
  department: singleLine(100).min(1),
  /** The manager's username in the directory. */
  manager: usernameSchema,
  /** A role of the role catalogue: its groups and application permissions. */
  role: roleNameSchema,
  /** When the account is made (a durable wait until then); absent: now. */
  startDate: isoInstant().optional(),
  /** Who receives the one-time link to the password and MFA enrolment (e.g. the manager, or the person's private address). */
  deliverCredentialsTo: emailSchema,
  ticket: singleLine(200).optional(),
  /** The gate a role with privileged groups waits at. */
  approval: approvalPolicyInputSchema.prefault({}),
});
export type AccountJoinerInput = z.infer<typeof accountJoinerInputSchema>;

/** What a one-time credential link gives, once. */
export interface RedeemedCredentials {
  username: string;
  /** The initial password; the directory demands a new one at first login. */
  password: string;
  /** The TOTP enrolment (RFC 6238) for an authenticator app, when one was enrolled. */
  otpauthUri?: string;
}

export const redeemCredentialLinkSchema = z.strictObject({
  token: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be the token of a credential link (43 characters)'),
});

export const passwordResetInputSchema = z.strictObject({
  /** Whose password is reset. */
  username: usernameSchema,
  /** Where the one-time link goes: an address the caller was verified to own (their manager's, or a private one on file). */
  deliverCredentialsTo: emailSchema,
  /** Also enrol a new TOTP secret (a lost phone): waits for an approver first. */
  resetMfa: z.boolean().default(false),
  ticket: singleLine(200).optional(),
  /** The 1st line's time to verify the caller before the task passes to the 2nd line. */
  slaSeconds: z
    .number()
    .int()
    .min(60)
    .max(7 * 24 * 3600)
    .default(3600),
  /** The gate a TOTP reset waits at. */
  approval: approvalPolicyInputSchema.prefault({}),
});
export type PasswordResetInput = z.infer<typeof passwordResetInputSchema>;

/** How the 1st line verified the caller: the evidence of the identity check, in the report. */
export const identityVerificationSchema = z.strictObject({
  method: z
    .enum(['callback-to-number-on-file', 'in-person-with-photo-id', 'video-call-with-photo-id', 'manager-confirmed'])
    .describe('How the caller was verified'),
  reference: singleLine(200)
    .min(1)
    .describe('What was checked: the number called back, the ID document type and last digits, the manager who confirmed'),
  callerIsAccountHolder: z.literal(true).describe('The caller is the account holder (tick only when verified)'),
});
export type IdentityVerification = z.infer<typeof identityVerificationSchema>;
export const identityVerificationForm = z.toJSONSchema(identityVerificationSchema) as Record<string, unknown>;

/** Days, fractions allowed (a test may wait seconds); at most ten years. */
const days = (fallback: number) => z.number().min(0).max(3650).default(fallback);

export const accountLeaverInputSchema = z.strictObject({
  username: usernameSchema,
  /** When access ends (a durable wait until then); absent: now. */
  lastDay: isoInstant().optional(),
  /** A dismissal: access ends now, after an approval. */
  dismissal: z.boolean().default(false),
  /** Who gets the leaver's mail meanwhile; default: the manager's address in the directory. */
  forwardMailTo: emailSchema.optional(),
  /** How long mail is forwarded. */
  forwardDays: days(30),
  /** How long the locked account, its Maildir and the home drive archive stay before the account is deleted. */
  retentionDays: days(90),
  ticket: singleLine(200).optional(),
  /** The gate a dismissal waits at. */
  approval: approvalPolicyInputSchema.prefault({}),
});
export type AccountLeaverInput = z.infer<typeof accountLeaverInputSchema>;

export const accountMoverInputSchema = z.strictObject({
  username: usernameSchema,
  /** The role the person leaves: its groups and permissions not in the new role are removed. */
  fromRole: roleNameSchema,
  /** The role the person takes. */
  toRole: roleNameSchema,
  /** The new department, when it changes. */
  department: singleLine(100).min(1).optional(),
  ticket: singleLine(200).optional(),
  approval: approvalPolicyInputSchema.prefault({}),
});
export type AccountMoverInput = z.infer<typeof accountMoverInputSchema>;

/** Group and application-permission changes of a move: what the approver sees and the run applies. */
export interface AccessDiff {
  addGroups: string[];
  removeGroups: string[];
  addPermissions: string[];
  removePermissions: string[];
}
