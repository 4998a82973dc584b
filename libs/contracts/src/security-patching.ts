import { z } from 'zod';
import { DEFAULT_HOST_TIMEOUT_SECONDS, MAX_TARGETS_PER_RUN, hostSelectorSchema } from './hosts';
import { freeText, isoInstant, singleLine } from './text';

export const patchSchema = z.strictObject({
  package: z
    .string()
    .max(200)
    .regex(/^[a-z0-9][a-z0-9+._-]*$/, 'must be a package name'),
  version: z
    .string()
    .max(200)
    .regex(/^[A-Za-z0-9.+~:_-]+$/, 'must be a package version'),
});
export type Patch = z.infer<typeof patchSchema>;

/** A wave's size: a host count, a share of the production hosts ("5%"), or "rest". */
export const waveSizeSchema = z.union([
  z.number().int().positive(),
  z
    .string()
    .max(20)
    .regex(/^(100|[1-9]?[0-9])(\.[0-9]+)?%$/, 'must be a percentage such as "5%"'),
  z.literal('rest'),
]);
export type WaveSize = z.infer<typeof waveSizeSchema>;

export const escalationTierSchema = z.strictObject({ tier: z.number().int().min(2).max(3), contact: singleLine(200).min(1) });

export const securityPatchingInputSchema = z.strictObject({
  targets: hostSelectorSchema,
  /** The lab group patched first; it must be part of the targets. */
  canary: hostSelectorSchema.default({ tags: ['canary'] }),
  patches: z.array(patchSchema).min(1).max(100),
  /** Start no earlier than this; omitted: start now (or when `maintenanceWindow` opens). */
  startAt: isoInstant().optional(),
  /**
   * A named maintenance window (see /v1/maintenance/windows): the run waits until it is open,
   * pauses between hosts when it closes or a change freeze begins, and goes on when it reopens.
   */
  maintenanceWindow: z
    .string()
    .max(63)
    .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be the name of a maintenance window')
    .optional(),
  /** How often a running rollout re-reads the calendar, so a freeze declared mid-run is obeyed. */
  windowRecheckSeconds: z.number().int().min(1).max(3600).default(60),
  /** Admins only: run outside the window or through a freeze; the reason goes into the report. */
  windowOverride: z.strictObject({ reason: freeText(500).min(1) }).optional(),
  waves: z.array(waveSizeSchema).min(1).max(20).default([1, '5%', '25%', 'rest']),
  /** Hosts patched at once within a batch; operators can change it while the rollout runs. */
  concurrency: z.number().int().min(1).max(200).default(10),
  /** Hosts per child workflow (keeps every history far from Temporal's limits). */
  batchSize: z.number().int().min(1).max(500).default(200),
  /** The rollout stops when failures exceed this: a count, or a percentage of all targets. */
  failureThreshold: z
    .union([
      z.strictObject({ count: z.number().int().min(0).max(MAX_TARGETS_PER_RUN) }),
      z.strictObject({ percent: z.number().min(0).max(100) }),
    ])
    .default({ percent: 10 }),
  bakeSeconds: z.number().int().min(0).max(86_400).default(30),
  /**
   * Longest a host may take for one action (snapshot, patch, health check) before it counts as failed.
   * The default outlasts the drivers' own command limits (HOST_COMMAND_SECONDS), so a slow but
   * working apt run is never abandoned (and retried) while it still holds dpkg's lock.
   */
  hostTimeoutSeconds: z.number().int().min(1).max(3600).default(DEFAULT_HOST_TIMEOUT_SECONDS),
  /** On a stop: roll back only the failed hosts, or every host this run changed. */
  rollback: z.enum(['failed-hosts', 'all-changed-hosts']).default('failed-hosts'),
  approval: z
    .strictObject({
      timeoutSeconds: z
        .number()
        .int()
        .min(1)
        .max(7 * 24 * 3600)
        .default(3600),
      requiredApprovals: z.number().int().min(1).max(5).default(1),
      escalation: z
        .array(escalationTierSchema)
        .max(2)
        .default([
          { tier: 2, contact: '2nd-line on-call' },
          { tier: 3, contact: '3rd-line on-call' },
        ]),
    })
    .prefault({}),
  ticket: singleLine(200).optional(),
});
export type SecurityPatchingInput = z.infer<typeof securityPatchingInputSchema>;

/**
 * Splits the production hosts into waves, in order. Percentages are of all production hosts,
 * rounded up; "rest" takes what is left. Hosts the listed waves do not reach go into one more
 * wave at the end, so no target is ever silently left out.
 */
export function planWaves(hosts: readonly string[], sizes: readonly WaveSize[]): string[][] {
  const waves: string[][] = [];
  let next = 0;
  for (const size of sizes) {
    if (next >= hosts.length) break;
    const count =
      size === 'rest' ? hosts.length - next : typeof size === 'number' ? size : Math.ceil((parseFloat(size) / 100) * hosts.length);
    waves.push(hosts.slice(next, next + Math.max(1, count)));
    next += Math.max(1, count);
  }
  if (next < hosts.length) waves.push(hosts.slice(next));
  return waves;
}

/** How many failed hosts the rollout tolerates before it stops. */
export function maxToleratedFailures(threshold: SecurityPatchingInput['failureThreshold'], targets: number): number {
  return 'count' in threshold ? threshold.count : Math.floor((threshold.percent / 100) * targets);
}

/** What every fleet campaign takes besides its procedure's parameters (security patching, software fix). */
export type FleetCampaignInput = Omit<SecurityPatchingInput, 'patches'>;
