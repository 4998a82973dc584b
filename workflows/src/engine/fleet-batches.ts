import { ApplicationFailure, isCancellation, patched, setHandler } from '@temporalio/workflow';
import {
  batchControlSignal,
  batchProgressQuery,
  countsByWave,
  type BatchControl,
  type HostBatchInput,
  type HostBatchResult,
  type HostRecord,
  type ProcedureCall,
  type RollbackBatchInput,
} from '@runbooks/contracts';
import type { RunbookActivities } from '@runbooks/activities';
import { procedureFor, type HostCall, type HostProcedure } from '../procedures';
import {
  LOCAL_BOOKKEEPING_PATCH,
  batchActivities,
  describeError,
  hostActionOptions,
  localBookkeeping,
  stepActivities,
  type AttemptObserver,
} from './activities';
import { laneWindow, slidingWindow } from './sliding-window';

/** Host actions: each bounded by the run's host timeout; a hung host fails instead of stalling the wave. */
function hostActivities(hostTimeoutSeconds: number): RunbookActivities {
  return stepActivities(hostActionOptions(hostTimeoutSeconds), { attempted: () => undefined });
}

/** Batches started before procedures existed carry security patching's parameters instead of a call. */
function callOf(input: { procedure?: ProcedureCall; patches?: unknown }): ProcedureCall {
  return input.procedure ?? { name: 'security-patch', params: { patches: input.patches } };
}

/** patched: batches recorded before ran each host through slidingWindow and stepActivities (and replay so). */
const LANES_PATCH = 'fleet-batch-lanes';

/**
 * How a batch reaches one host: its procedure step, with the run's idempotency keys; the attempts
 * of the host's activities go into its record. `lanes`: the host activities are proxied once per
 * batch (batchActivities), else per host (stepActivities), as batches recorded before did.
 */
function hostCaller(
  runId: string,
  call: ProcedureCall,
  hostTimeoutSeconds: number,
  lanes = false,
): (record: HostRecord) => HostCall<unknown> {
  const options = hostActionOptions(hostTimeoutSeconds);
  const activitiesFor: (observer: AttemptObserver) => RunbookActivities = lanes
    ? batchActivities(options)
    : (observer) => stepActivities(options, observer);
  return (record) => ({
    host: record.name,
    params: call.params,
    acts: activitiesFor({ attempted: (attempt) => void (record.attempts = Math.max(record.attempts ?? 0, attempt)) }),
    key: (op) => `${runId}/${op}/${record.name}`,
  });
}

/**
 * How often a batch's outcomes are tried locally (over about 15 s) before the queued activity takes
 * over: a local activity's retries keep the workflow task alive, adding events to the history.
 */
const LOCAL_RECORD_ATTEMPTS = 5;

/**
 * Writes the hosts' records to the store (keyed by run and host: a retry rewrites the same rows);
 * the parent is answered counts only.
 */
async function recordHosts(
  runId: string,
  batch: number | undefined,
  records: HostRecord[],
  hostTimeoutSeconds: number,
): Promise<HostBatchResult> {
  const outcomes = { runId, batch, hosts: records };
  // Retried without limit, as host actions are: the batch's work is done and must be recorded.
  const queued = () => hostActivities(hostTimeoutSeconds).recordHostOutcomes(outcomes);
  if (!patched(LOCAL_BOOKKEEPING_PATCH)) await queued();
  else {
    try {
      const retry = { ...hostActionOptions(hostTimeoutSeconds).retry, maximumAttempts: LOCAL_RECORD_ATTEMPTS };
      await localBookkeeping(retry).recordHostOutcomes(outcomes);
    } catch (error) {
      if (isCancellation(error)) throw error;
      // The store is out for longer: the queued activity waits for it (both upsert by run and host,
      // so a write the local one did make is rewritten, not doubled).
      await queued();
    }
  }
  return { hosts: [], counts: countsByWave(records) };
}

/**
 * One batch of a wave, as a child workflow of a few hundred hosts: per host, the procedure's
 * prepare, act and verify; a host that fails is undone at once. The parent steers it (pause,
 * concurrency, skip, stop) through the batchControl signal; it stops starting hosts once its
 * share of the failure budget is spent. The workflow type keeps the name it had when patching
 * was the only procedure: running campaigns and recorded histories name it.
 */
export async function patchBatch(input: HostBatchInput): Promise<HostBatchResult> {
  let control: BatchControl = input.control;
  setHandler(batchControlSignal, (next) => void (control = next));
  const records: HostRecord[] = input.hosts.map((name) => ({ name, wave: input.wave, state: 'pending' }));
  setHandler(batchProgressQuery, () => records);
  const call = callOf(input);
  const procedure = procedureFor(call);
  const lanes = patched(LANES_PATCH);
  const onHost = hostCaller(input.runId, call, input.hostTimeoutSeconds, lanes);
  let failures = 0;

  const runOnHost = async (record: HostRecord): Promise<void> => {
    if (control.skipped.includes(record.name)) {
      record.state = 'skipped';
      record.error = 'skipped by an operator';
      return;
    }
    record.state = 'patching';
    record.startedAt = new Date().toISOString();
    const host = onHost(record);
    try {
      record.snapshotId = await procedure.prepare(host);
      record.changed = await procedure.act(host);
      const health = await procedure.verify(host);
      if (!health.healthy) {
        throw ApplicationFailure.create({
          type: 'HostUnhealthy',
          message: `unhealthy after ${procedure.action}: ${health.detail}`,
          nonRetryable: true,
        });
      }
      record.state = 'patched';
    } catch (error) {
      if (isCancellation(error)) throw error;
      failures += 1;
      record.state = 'failed';
      record.error = describeError(error);
      if (record.snapshotId) await undo(procedure, host, record, record.snapshotId);
    } finally {
      record.at = new Date().toISOString();
    }
  };

  const notStarted = await (lanes ? laneWindow : slidingWindow)(
    records,
    {
      paused: () => control.paused,
      concurrency: () => control.concurrency,
      stopped: () => control.stop || failures > input.failureBudget,
    },
    runOnHost,
  );
  for (const record of notStarted) {
    record.state = 'skipped';
    record.error = control.stop ? 'not started: the rollout was stopped' : 'not started: the failure threshold was passed';
  }
  if (input.recordHosts) return recordHosts(input.runId, input.batch, records, input.hostTimeoutSeconds);
  return { hosts: records.map(compact) };
}

/** What the parent is told of a host (package changes stay in the batch's own history, query and the store). */
function compact({ name, wave, state, snapshotId, error }: HostRecord): HostRecord {
  return { name, wave, state, snapshotId, error };
}

/** Undoes the procedure on hosts it changed (after a stop or an abort), as a child workflow per batch. */
export async function rollbackBatch(input: RollbackBatchInput): Promise<HostBatchResult> {
  const call = callOf(input);
  const procedure = procedureFor(call);
  const onHost = hostCaller(input.runId, call, input.hostTimeoutSeconds);
  const records: HostRecord[] = input.hosts.map((h) => ({ name: h.name, wave: h.wave ?? 0, state: 'patched', snapshotId: h.snapshotId }));
  setHandler(batchProgressQuery, () => records);
  await slidingWindow(records, { paused: () => false, concurrency: () => input.concurrency, stopped: () => false }, (record) =>
    undo(procedure, onHost(record), record, record.snapshotId as string),
  );
  if (input.recordHosts) return recordHosts(input.runId, undefined, records, input.hostTimeoutSeconds);
  return { hosts: records };
}

async function undo(procedure: HostProcedure<unknown>, host: HostCall<unknown>, record: HostRecord, snapshotId: string): Promise<void> {
  try {
    await procedure.undo(host, snapshotId);
    record.state = 'rolled_back';
  } catch (error) {
    record.state = 'rollback_failed';
    record.error = `${record.error ? `${record.error}; ` : ''}rollback failed: ${describeError(error)}`;
  }
}
