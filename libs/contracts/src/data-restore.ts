import { z } from 'zod';
import { secretRefSchema } from './secrets';
import { ABSOLUTE_PATH, isoInstant, singleLine } from './text';

export const absolutePath = (what: string) =>
  z
    .string()
    .min(1)
    .max(4096)
    .regex(ABSOLUTE_PATH, `${what} must be an absolute path without control characters`)
    .refine((p) => !p.split('/').includes('..'), `${what} must not contain '..'`);

export const approvalPolicyInputSchema = z.strictObject({
  /** How long the gate waits for a decision before escalating, then again before rejecting. */
  timeoutSeconds: z
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 3600)
    .default(3600),
  /** Who is told when nobody decided in time (a person, a team or an on-call handle). */
  escalationContact: singleLine(200).min(1).default('2nd-line on-call'),
});

export const backupRepositorySchema = z.strictObject({
  /** A restic repository location as restic accepts it (a local path, sftp:, rest:, s3:...). */
  url: singleLine(2000).min(1),
  passwordRef: secretRefSchema,
});

export const dataRestoreInputSchema = z
  .strictObject({
    repository: backupRepositorySchema,
    /** The path inside the backup to bring back, e.g. /srv/projects. */
    path: absolutePath('path'),
    /** Restore this snapshot (id or its short form). */
    snapshotId: z
      .string()
      .regex(/^[0-9a-f]{8,64}$/, 'must be a restic snapshot id (8 to 64 lowercase hex characters)')
      .optional(),
    /** Otherwise restore the newest snapshot of `path` taken before this instant (default: now). */
    before: isoInstant().optional(),
    /** Where the restored content goes on the worker host; the current content is retained. */
    target: absolutePath('target'),
    /** The people whose data this is; they are told when it is back. */
    affectedUsers: z.array(singleLine(320).min(1)).min(1).max(500),
    ticket: singleLine(200).optional(),
    approval: approvalPolicyInputSchema.prefault({}),
  })
  .refine((i) => !(i.snapshotId && i.before), {
    message: 'give either snapshotId or before, not both',
    path: ['before'],
  });
export type DataRestoreInput = z.infer<typeof dataRestoreInputSchema>;

/** A restic snapshot as the runbook sees it. */
export const snapshotSummarySchema = z.object({
  id: z.string(),
  shortId: z.string(),
  time: z.string(),
  hostname: z.string(),
  paths: z.array(z.string()),
  tags: z.array(z.string()),
});
export type SnapshotSummary = z.infer<typeof snapshotSummarySchema>;

/** Pick the restore point: the named snapshot, or the newest covering `path` before `before`. */
export function chooseRestorePoint(
  snapshots: readonly SnapshotSummary[],
  wanted: { path: string; snapshotId?: string; before: string },
): { snapshot: SnapshotSummary } | { refusal: string } {
  if (wanted.snapshotId) {
    const id = wanted.snapshotId;
    const matches = snapshots.filter((s) => s.id.startsWith(id));
    if (matches.length === 0) return { refusal: `no snapshot with id ${id} in the repository` };
    if (matches.length > 1) return { refusal: `snapshot id ${id} is ambiguous (${matches.length} snapshots match)` };
    const snapshot = matches[0];
    if (!covers(snapshot, wanted.path)) {
      return { refusal: `snapshot ${snapshot.shortId} does not contain ${wanted.path} (it holds ${snapshot.paths.join(', ')})` };
    }
    return { snapshot };
  }
  const before = Date.parse(wanted.before);
  const candidates = snapshots
    .filter((s) => covers(s, wanted.path) && Date.parse(s.time) <= before)
    .sort((a, b) => Date.parse(b.time) - Date.parse(a.time));
  if (candidates.length === 0) {
    return { refusal: `no snapshot of ${wanted.path} was taken before ${wanted.before}` };
  }
  return { snapshot: candidates[0] };
}

function covers(snapshot: SnapshotSummary, path: string): boolean {
  return snapshot.paths.some((p) => path === p || path.startsWith(p.endsWith('/') ? p : `${p}/`));
}
