import { z } from 'zod';
import { ABSOLUTE_PATH, singleLine } from './text';

/**
 * Folders no restore may write into, whatever the policy says: the system's own. A target is
 * refused when it is one of these or lies under one (`/` only as itself: every path is under it).
 */
export const SYSTEM_FOLDERS: readonly string[] = [
  '/',
  '/bin',
  '/boot',
  '/dev',
  '/etc',
  '/lib',
  '/lib32',
  '/lib64',
  '/libx32',
  '/proc',
  '/root',
  '/run',
  '/sbin',
  '/sys',
  '/usr',
  '/var/lib',
  '/var/log',
  '/var/spool',
];

const rootPath = z
  .string()
  .min(1)
  .max(4096)
  .regex(ABSOLUTE_PATH, 'must be an absolute path without control characters')
  .refine((p) => !p.split('/').includes('..'), "must not contain '..'");

export const restoreTargetRuleSchema = z.strictObject({
  /** The restic repository location exactly as launches give it (`input.repository.url`). */
  repository: singleLine(2000).min(1),
  /** Folders a restore from this repository may write into (the target itself or anything under it). */
  roots: z.array(rootPath).min(1).max(100),
});
export type RestoreTargetRule = z.infer<typeof restoreTargetRuleSchema>;

/** Where restores may write, per repository; a repository without a rule may restore nowhere. */
export const restoreTargetPolicySchema = z
  .strictObject({ rules: z.array(restoreTargetRuleSchema).max(1000) })
  .superRefine((policy, ctx) => {
    const seen = new Set<string>();
    policy.rules.forEach((rule, i) => {
      if (seen.has(rule.repository)) {
        ctx.addIssue({ code: 'custom', path: ['rules', i, 'repository'], message: `${rule.repository} has a rule already` });
      }
      seen.add(rule.repository);
    });
  });
export type RestoreTargetPolicy = z.infer<typeof restoreTargetPolicySchema>;

/**
 * The service's own data: `dirs` (RUNBOOKS_DATA_DIR, the SQLite store's folder), refused as a
 * target, inside or above, except below `except` (the demo's stand-in file server lives in the data folder).
 */
export interface ServiceDataFolders {
  dirs: readonly string[];
  except: readonly string[];
}

/** True when `child` is `parent` or lies under it (both canonical absolute paths). */
export function isWithin(child: string, parent: string): boolean {
  if (parent === '/') return true;
  return child === parent || child.startsWith(`${parent}/`);
}

/**
 * Why a restore from `repository` may not write into `target`, or undefined when it may. Every
 * path is canonical already (symlinks resolved): `target`, the rule roots and the service's folders.
 */
export function restoreTargetRefusal(
  policy: RestoreTargetPolicy,
  { repository, target }: { repository: string; target: string },
  neverAllowed: { systemFolders: readonly string[]; serviceData: ServiceDataFolders },
): string | undefined {
  const system = neverAllowed.systemFolders.find((f) => (f === '/' ? target === '/' : isWithin(target, f)));
  if (system !== undefined)
    return `${target} is ${system === target ? 'a system folder' : `inside the system folder ${system}`}; no policy allows it`;
  const { dirs, except } = neverAllowed.serviceData;
  const data = dirs.find((d) => isWithin(d, target) || (isWithin(target, d) && !except.some((e) => isWithin(target, e))));
  if (data !== undefined) return `${target} holds or is inside the service's own data folder (${data}); no policy allows it`;
  const rule = policy.rules.find((r) => r.repository === repository);
  if (!rule) return `no restore target policy names the repository ${repository} (GET /v1/policy/restore-targets)`;
  if (!rule.roots.some((root) => isWithin(target, root))) {
    return `${target} is outside the roots the policy allows for this repository (${rule.roots.join(', ')})`;
  }
  return undefined;
}
