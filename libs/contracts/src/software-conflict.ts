import { z } from 'zod';
import type { RunbookDefinition } from './catalog';
import { approvalPolicyInputSchema } from './data-restore';
import { hostSchema, hostSelectorSchema, selectHosts, type Host } from './hosts';
import { patchSchema } from './security-patching';
import { softwareFixInputSchema } from './software-fix';
import { freeText, isoInstant, singleLine } from './text';

const packageNameSchema = patchSchema.shape.package;
const packageVersionSchema = patchSchema.shape.version;

export const reproductionNameSchema = z
  .string()
  .max(63)
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be a reproduction name (lowercase letters, digits and dashes)');

/**
 * A reproduction admins write into the catalogue: a bash command whose exit status says whether
 * the problem shows (non-zero) or not (0). It runs as root on the host and in the sandbox, so
 * only admins write it and a run names it (`reproduction`), never carries a command of its own.
 * `$RUNBOOK_ROOT` is the package root it runs against: empty on the host itself, the sandbox's
 * prefix in the sandbox, so `"$RUNBOOK_ROOT/usr/bin/app"` names the program in either.
 */
export const conflictReproductionSchema = z.strictObject({
  name: reproductionNameSchema,
  description: freeText(1000).min(1),
  command: singleLine(2000).min(1),
  /** The hosts it may run on (names or tags of the inventory); omitted: any ssh or local host. */
  hosts: hostSelectorSchema.optional(),
});
export type ConflictReproduction = z.infer<typeof conflictReproductionSchema>;

export const conflictReproductionCatalogSchema = z
  .strictObject({ reproductions: z.array(conflictReproductionSchema).max(200) })
  .superRefine((catalog, ctx) => {
    const seen = new Set<string>();
    catalog.reproductions.forEach((r, i) => {
      if (seen.has(r.name)) ctx.addIssue({ code: 'custom', message: `duplicate name ${r.name}`, path: ['reproductions', i, 'name'] });
      seen.add(r.name);
    });
  });
export type ConflictReproductionCatalog = z.infer<typeof conflictReproductionCatalogSchema>;

/** A reproduction as the catalogue holds it now: `revision` is the catalogue version that last changed it. */
export type CatalogedReproduction = ConflictReproduction & { revision: number };

/** Why `reproduction` may not run on `host` (undefined: it may). */
export function reproductionHostRefusal(reproduction: ConflictReproduction, host: Pick<Host, 'name' | 'tags'>): string | undefined {
  if (!reproduction.hosts) return undefined;
  if (selectHosts([host as Host], reproduction.hosts).hosts.length > 0) return undefined;
  const names = [...(reproduction.hosts.names ?? []), ...(reproduction.hosts.tags ?? []).map((t) => `tag ${t}`)].join(', ');
  return `reproduction ${reproduction.name} applies only to ${names}, not to ${host.name}`;
}

/** A software conflict reported on one host: what the user sees, when, and which catalogued reproduction makes it show. */
export const softwareConflictInputSchema = z.strictObject({
  host: hostSchema.shape.name,
  /** When the user saw the problem: logs and package changes are collected around it. */
  reportedAt: isoInstant(),
  symptom: freeText(1000).min(1),
  /** The catalogue's reproduction (GET /v1/software-conflict/reproductions); the worker reads its command just before each run of it. */
  reproduction: reproductionNameSchema,
  /**
   * The packages the problem involves (the program that fails, the service that cannot start):
   * the sandbox holds them at the host's versions, with every package dpkg's log shows changed
   * in the lookback. Only those changed packages are candidates for a fix.
   */
  packages: z.array(packageNameSchema).min(1).max(50),
  /** How far before the report dpkg's log and the host's logs are read. */
  lookbackHours: z
    .number()
    .int()
    .min(1)
    .max(24 * 90)
    .default(72),
  /** Whoever approves the fix on the real host must hold the `approver` role and not be the requester. */
  approval: approvalPolicyInputSchema.prefault({}),
  ticket: singleLine(200).min(1).optional(),
  /**
   * The other hosts with the same problem: once the fix is verified on `host`, the run starts a
   * `software-fix` run over them as its child (targets, canary, waves, threshold, window and its own
   * production approval, as software-fix takes them; `fix` and `ticket` come from this run) and waits for it.
   */
  fleet: softwareFixInputSchema.omit({ fix: true, ticket: true }).optional(),
});
export type SoftwareConflictInput = z.infer<typeof softwareConflictInputSchema>;
/** Runs launched before the catalogue carried the command itself (`reproduce`); the API no longer accepts it. */
export type LegacySoftwareConflictInput = Omit<SoftwareConflictInput, 'reproduction'> & { reproduction?: string; reproduce?: string };

/** One package change from dpkg's log: `install` (from null), `upgrade` (either direction) or `remove` (to null). */
export interface PackageChange {
  at: string;
  action: 'install' | 'upgrade' | 'remove';
  package: string;
  from: string | null;
  to: string | null;
}

/**
 * A fix to try: `update` to a version the index offers, `rollback` to the version installed
 * before (from a kept .deb when it left the index) and hold it there so the next upgrade does
 * not bring the bad one back, or `remove` a package that came in with the problem.
 */
export const conflictFixSchema = z.discriminatedUnion('action', [
  z.strictObject({ action: z.literal('update'), package: packageNameSchema, version: packageVersionSchema }),
  z.strictObject({ action: z.literal('rollback'), package: packageNameSchema, version: packageVersionSchema, hold: z.boolean() }),
  z.strictObject({ action: z.literal('remove'), package: packageNameSchema }),
]);
export type ConflictFix = z.infer<typeof conflictFixSchema>;

/** What the identify step found on the host. */
export interface ConflictEvidence {
  /** Every installed package, `name → version`. */
  installed: Record<string, string>;
  /** The version apt would install now for each package involved or changed (absent: none in the index). */
  candidates: Record<string, string>;
  /** dpkg's log between the lookback and the report, oldest first. */
  changes: PackageChange[];
  /** `ss -ltnp`: listening TCP ports and the processes that hold them. */
  listening: string;
  /** The host's log lines around the report (journalctl where the host has it). */
  logs: string;
}

/**
 * The fixes to try, in order, for the packages dpkg changed in the lookback (newest change
 * first): first a newer version the index offers (the vendor's own fix), then the version
 * before the change (held), then removing a package that was newly installed.
 */
export function candidateFixes(evidence: Pick<ConflictEvidence, 'installed' | 'candidates' | 'changes'>): ConflictFix[] {
  const fixes: ConflictFix[] = [];
  const seen = new Set<string>();
  for (const change of [...evidence.changes].reverse()) {
    if (seen.has(change.package)) continue;
    seen.add(change.package);
    const installed = evidence.installed[change.package];
    if (installed === undefined || installed !== change.to) continue; // changed again since, or gone: not this change's doing
    const candidate = evidence.candidates[change.package];
    if (candidate && candidate !== installed && candidate !== change.from) {
      fixes.push({ action: 'update', package: change.package, version: candidate });
    }
    if (change.from) fixes.push({ action: 'rollback', package: change.package, version: change.from, hold: true });
    if (change.action === 'install') fixes.push({ action: 'remove', package: change.package });
  }
  return fixes;
}

/** One line for approvals, reports and the article. */
export function describeFix(fix: ConflictFix): string {
  switch (fix.action) {
    case 'update':
      return `update ${fix.package} to ${fix.version}`;
    case 'rollback':
      return `roll ${fix.package} back to ${fix.version}${fix.hold ? ' and hold it there' : ''}`;
    case 'remove':
      return `remove ${fix.package}`;
  }
}

/** What a person types on a Debian host to apply the fix by hand (for the knowledge-base article). */
export function manualFixCommands(fix: ConflictFix): string[] {
  switch (fix.action) {
    case 'update':
      return [`apt-get install ${fix.package}=${fix.version}`];
    case 'rollback':
      return [
        `apt-get install --allow-downgrades ${fix.package}=${fix.version}  # or its .deb kept in /var/cache/apt/archives`,
        ...(fix.hold ? [`apt-mark hold ${fix.package}`] : []),
      ];
    case 'remove':
      return [`apt-get remove ${fix.package}`];
  }
}

/** One fix tried in the sandbox, for the report and the article. */
export interface SandboxTrial {
  fix: ConflictFix;
  /** The fix went in (a failed install is a failed trial). */
  applied: boolean;
  /** The reproduction passed (exit 0) after it. */
  passes: boolean;
  detail: string;
  /** The catalogue revision of the reproduction that ran (absent in runs launched before the catalogue). */
  revision?: number;
}

/** A knowledge-base article: what a technician meeting the same symptom needs. */
export const knowledgeBaseArticleSchema = z.object({
  id: z.string(),
  title: z.string(),
  symptom: z.string(),
  cause: z.string(),
  fix: z.string(),
  /** The commands that reproduce, fix and undo it. */
  commands: z.array(z.string()),
  hosts: z.array(z.string()),
  /** The run that wrote it (its report: /v1/runs/{runId}/report). */
  runId: z.string(),
  createdAt: z.string(),
});
export type KnowledgeBaseArticle = z.infer<typeof knowledgeBaseArticleSchema>;

export const knowledgeBaseSearchSchema = z
  .object({
    q: singleLine(200)
      .min(1)
      .refine((q) => q.trim().length > 0, 'must hold a word to search for')
      .meta({ description: 'Words that must all appear (case-insensitive) in the article: symptom, cause, fix, commands, hosts' }),
    limit: z.coerce.number().int().min(1).max(100).default(20),
  })
  .strict();
export const knowledgeBaseIdSchema = z
  .string()
  .max(40)
  .regex(/^kb-[0-9a-f]{16}$/, 'must be a knowledge-base article id (kb- and 16 hex digits)');

export const softwareConflictRunbook = {
  name: 'software-conflict',
  title: 'Software conflict',
  summary:
    'Resolve a software conflict on one host: collect its logs, package versions, listening ports and recent package ' +
    'changes; reproduce the problem in a sandbox (a separate dpkg/apt root with the same packages); try fixes there ' +
    '(update, roll back and hold, remove) until the reproduction passes; apply the winning fix to the host after ' +
    'approval, with undo; verify; and write a knowledge-base article linked from the report.',
  workflowType: 'softwareConflict',
  inputSchema: softwareConflictInputSchema,
  steps: [
    { id: 'identify', title: 'Identify: logs around the report, package versions, listening ports, recent package changes' },
    { id: 'reproduce-in-sandbox', title: 'Reproduce the problem in a sandbox with the same packages' },
    { id: 'isolate-in-sandbox', title: 'Try candidate fixes in the sandbox until the reproduction passes' },
    { id: 'approve-fix', title: 'Approval to apply the winning fix to the host', approval: true },
    { id: 'apply-fix', title: 'Apply the fix to the host (kept .debs allow the undo)' },
    { id: 'verify-fix', title: 'Verify: the reproduction passes on the host and its health checks pass' },
    { id: 'write-knowledge-base', title: 'Write the knowledge-base article: symptom, cause, fix, commands, hosts' },
    { id: 'discard-sandbox', title: 'Discard the sandbox' },
    {
      id: 'fleet-fix',
      title: 'Fleet: roll the fix out over input.fleet with a software-fix run (canary, approval, waves) and wait for it',
    },
    { id: 'write-report', title: 'Document the conflict, the trials and the fix' },
  ],
  admission: {
    hostSelectors: (input: SoftwareConflictInput) => [
      { field: 'host', selector: { names: [input.host] }, oneHost: true as const },
      ...(input.fleet
        ? [
            { field: 'fleet.targets', selector: input.fleet.targets },
            { field: 'fleet.canary', selector: input.fleet.canary },
          ]
        : []),
    ],
    reproduction: (input: SoftwareConflictInput) => ({ field: 'reproduction', name: input.reproduction, host: input.host }),
    // The fleet's window is the child's to wait for; naming one the calendar lacks is refused at launch.
    maintenanceWindow: (input: SoftwareConflictInput) =>
      input.fleet?.maintenanceWindow
        ? { field: 'fleet.maintenanceWindow', name: input.fleet.maintenanceWindow, startAt: input.fleet.startAt, overridden: false }
        : undefined,
  },
} as const satisfies RunbookDefinition;
