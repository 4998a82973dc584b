import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { z } from 'zod';
import { callerAssertionSchema } from './assertion';
import { freeText } from './text';
import { principalSchema } from './principal';
import type { Patch } from './security-patching';

export const hostStateSchema = z.enum(['pending', 'patching', 'patched', 'failed', 'rolled_back', 'rollback_failed', 'skipped']);
export type HostState = z.infer<typeof hostStateSchema>;

export const hostRecordSchema = z.object({
  name: z.string(),
  wave: z.number().int().nonnegative(),
  /** `patching`: the procedure is running on the host; `patched`: it was applied and verified (names from security patching). */
  state: hostStateSchema,
  /** What undoes the change: the snapshot the procedure's prepare step took. */
  snapshotId: z.string().optional(),
  /** Package versions before and after, for the host-by-host report. */
  changed: z.array(z.object({ package: z.string(), from: z.string().nullable(), to: z.string() })).optional(),
  error: z.string().optional(),
  /** When the procedure ended on the host. */
  at: z.string().optional(),
  /** The batch of its wave the host ran in (records in the store). */
  batch: z.number().int().nonnegative().optional(),
  /** Attempts of the host's last activity: more than 1 when the host or its driver failed and was retried. */
  attempts: z.number().int().nonnegative().optional(),
  /** When the procedure started on the host. */
  startedAt: z.string().optional(),
});
export type HostRecord = z.infer<typeof hostRecordSchema>;

export const hostCountsSchema = z.object({
  pending: z.number().int().nonnegative(),
  patching: z.number().int().nonnegative(),
  patched: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  rolled_back: z.number().int().nonnegative(),
  rollback_failed: z.number().int().nonnegative(),
  skipped: z.number().int().nonnegative(),
});
export type HostCounts = z.infer<typeof hostCountsSchema>;

export const waveRecordSchema = z.object({
  index: z.number().int().nonnegative(),
  /** "canary" or "wave 1", "wave 2", ... */
  name: z.string(),
  hosts: z.number().int().nonnegative(),
  state: z.enum(['pending', 'running', 'baking', 'done', 'stopped']),
  startedAt: z.string().optional(),
  endedAt: z.string().optional(),
  /** Its hosts by state (runs whose host records are in the store). */
  counts: hostCountsSchema.optional(),
});
export type WaveRecord = z.infer<typeof waveRecordSchema>;

export const operatorActionSchema = z.object({
  action: z.enum(['pause', 'resume', 'set-concurrency', 'skip-host', 'abort']),
  by: z.string(),
  at: z.string(),
  detail: z.string(),
});
export type OperatorAction = z.infer<typeof operatorActionSchema>;

export const rolloutStateSchema = z.object({
  paused: z.boolean(),
  concurrency: z.number().int().positive(),
  maxFailures: z.number().int().nonnegative(),
  /** Hosts whose patch or health check failed (whether or not their rollback then worked). */
  failures: z.number().int().nonnegative(),
  waves: z.array(waveRecordSchema),
  /**
   * Runs started before host records moved to the store: every host's record. Newer runs (those
   * with `counts`): only the hosts in flight, the batch running now (at most batchSize); their
   * records are paged from the store (GET /v1/runs/{id}/hosts), so the state stays small at any fleet size.
   */
  hosts: z.array(hostRecordSchema),
  /** Hosts by state over the whole rollout; present in runs whose host records are in the store. */
  counts: hostCountsSchema.optional(),
  skipped: z.array(z.string()),
  operatorActions: z.array(operatorActionSchema),
  /** Why the rollout stopped early, if it did. */
  stopReason: z.string().optional(),
  /** What the run is waiting for, e.g. "maintenance window opens at ...". */
  waitingFor: z.string().optional(),
  /** The maintenance window is closed (or a freeze holds): no host is started until it opens. */
  windowClosed: z.boolean().optional(),
});
export type RolloutState = z.infer<typeof rolloutStateSchema>;

export function noHosts(): HostCounts {
  return { pending: 0, patching: 0, patched: 0, failed: 0, rolled_back: 0, rollback_failed: 0, skipped: 0 };
}

export function countHosts(hosts: readonly HostRecord[]): HostCounts {
  const counts = noHosts();
  for (const h of hosts) counts[h.state] += 1;
  return counts;
}

/** A rollout's hosts by state: its counts, or (runs from before the counts) from its host records. */
export function rolloutCounts(rollout: RolloutState): HostCounts {
  return rollout.counts ?? countHosts(rollout.hosts);
}

/** A host's state moves from `from` to `to` in the counts (of the rollout and of its wave). */
export function moveCount(counts: HostCounts, from: HostState, to: HostState, n = 1): void {
  counts[from] = Math.max(0, counts[from] - n);
  counts[to] += n;
}

/** A host's row as the store keeps it (libs/store RunHostRow), as a HostRecord: for the report and the API. */
export function hostRecordOf(row: {
  host: string;
  wave: number;
  batch: number;
  state: string;
  attempts: number;
  snapshotId?: string;
  error?: string;
  changed?: unknown;
  startedAt?: string;
  endedAt?: string;
}): HostRecord {
  return {
    name: row.host,
    wave: row.wave,
    batch: row.batch,
    state: row.state as HostRecord['state'],
    attempts: row.attempts,
    snapshotId: row.snapshotId,
    error: row.error,
    changed: row.changed as HostRecord['changed'],
    startedAt: row.startedAt,
    at: row.endedAt,
  };
}

// --- operator steering (updates on the rollout's parent workflow) ---

/** The API's signed word on the principal (assertion.ts); the run's validators refuse steering without it when the workers hold keys. */
const assertion = callerAssertionSchema.optional();
export const pauseRolloutArgsSchema = z.object({ principal: principalSchema, assertion, reason: freeText(500).default('') });
export const resumeRolloutArgsSchema = pauseRolloutArgsSchema;
export const setConcurrencyArgsSchema = z.object({ principal: principalSchema, assertion, concurrency: z.number().int().min(1).max(200) });
export const skipHostArgsSchema = z.object({
  principal: principalSchema,
  assertion,
  host: z
    .string()
    .max(253)
    .regex(/^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$/, 'must be a host name: letters, digits, dots and dashes'),
  reason: freeText(500).default(''),
});
export const abortRolloutArgsSchema = z.object({
  principal: principalSchema,
  assertion,
  reason: freeText(500).min(1),
  /** Roll back every host this run changed (default), or leave them as they are. */
  rollback: z.boolean().default(true),
});
export type PauseRolloutArgs = z.infer<typeof pauseRolloutArgsSchema>;
export type SetConcurrencyArgs = z.infer<typeof setConcurrencyArgsSchema>;
export type SkipHostArgs = z.infer<typeof skipHostArgsSchema>;
export type AbortRolloutArgs = z.infer<typeof abortRolloutArgsSchema>;

export const pauseRolloutUpdate = defineUpdate<RolloutState, [PauseRolloutArgs]>('pauseRollout');
export const resumeRolloutUpdate = defineUpdate<RolloutState, [PauseRolloutArgs]>('resumeRollout');
export const setConcurrencyUpdate = defineUpdate<RolloutState, [SetConcurrencyArgs]>('setConcurrency');
export const skipHostUpdate = defineUpdate<RolloutState, [SkipHostArgs]>('skipHost');
export const abortRolloutUpdate = defineUpdate<RolloutState, [AbortRolloutArgs]>('abortRollout');

// --- parent <-> batch child ---

/** What a batch child must obey; the parent sends it whenever an operator changes something. */
export interface BatchControl {
  paused: boolean;
  concurrency: number;
  skipped: string[];
  /** Stop starting hosts: the rollout is aborted or over its failure threshold. */
  stop: boolean;
}
export const batchControlSignal = defineSignal<[BatchControl]>('batchControl');

/**
 * Which per-host procedure a rollout runs, and its parameters. Data, not code: a child workflow
 * cannot receive closures, so the batch looks the procedure up by name in the workflows'
 * registry (workflows/src/procedures).
 */
export interface ProcedureCall {
  name: string;
  params: unknown;
}

export interface HostBatchInput {
  runId: string;
  wave: number;
  batch: number;
  hosts: string[];
  /** Absent in batches started before procedures existed: those patch with `patches`. */
  procedure?: ProcedureCall;
  /** Only in batches started before procedures existed (security patching's parameters). */
  patches?: Patch[];
  control: BatchControl;
  /** Failures this batch may have before it stops starting hosts (the run's remaining budget). */
  failureBudget: number;
  hostTimeoutSeconds: number;
  /** The batch writes its hosts' records to the store before it returns (runs whose state keeps counts only). */
  recordHosts?: boolean;
}

export interface HostBatchResult {
  /** Every host's record; empty from a batch that wrote them to the store (recordHosts), which answers `counts`. */
  hosts: HostRecord[];
  /** Its hosts by state, per wave: what the parent keeps, so no batch result grows the parent's history by host. */
  counts?: { wave: number; counts: HostCounts }[];
}

/** A batch's hosts by state, per wave (in wave order). */
export function countsByWave(hosts: readonly HostRecord[]): { wave: number; counts: HostCounts }[] {
  const waves = [...new Set(hosts.map((h) => h.wave))].sort((a, b) => a - b);
  return waves.map((wave) => ({ wave, counts: countHosts(hosts.filter((h) => h.wave === wave)) }));
}
export const batchProgressQuery = defineQuery<HostRecord[]>('batchProgress');

export interface RollbackBatchInput {
  runId: string;
  /** Absent in rollbacks started before procedures existed: those restore patching snapshots. */
  procedure?: ProcedureCall;
  /** `snapshotId`: what the procedure's undo needs, as its prepare step returned it. */
  hosts: { name: string; snapshotId: string; wave?: number }[];
  concurrency: number;
  hostTimeoutSeconds: number;
  /** As HostBatchInput.recordHosts. */
  recordHosts?: boolean;
}
