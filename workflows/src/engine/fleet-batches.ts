import { ApplicationFailure, isCancellation, setHandler } from '@temporalio/workflow';
import {
  batchControlSignal,
  batchProgressQuery,
  type BatchControl,
  type HostRecord,
  type PatchBatchInput,
  type PatchBatchResult,
  type RollbackBatchInput,
} from '@runbooks/contracts';
import type { RunbookActivities } from '@runbooks/activities';
import { describeError, hostActionOptions, stepActivities } from './activities';
import { slidingWindow } from './sliding-window';

/** Host actions: each bounded by the run's host timeout; a hung host fails instead of stalling the wave. */
function hostActivities(hostTimeoutSeconds: number): RunbookActivities {
  return stepActivities(hostActionOptions(hostTimeoutSeconds), { attempted: () => undefined });
}

/**
 * One batch of a wave, as a child workflow of a few hundred hosts: per host, snapshot, patch,
 * health check; a host that fails is rolled back from its snapshot at once. The parent steers
 * it (pause, concurrency, skip, stop) through the batchControl signal; it stops starting hosts
 * once its share of the failure budget is spent.
 */
export async function patchBatch(input: PatchBatchInput): Promise<PatchBatchResult> {
  let control: BatchControl = input.control;
  setHandler(batchControlSignal, (next) => void (control = next));
  const records: HostRecord[] = input.hosts.map((name) => ({ name, wave: input.wave, state: 'pending' }));
  setHandler(batchProgressQuery, () => records);
  const acts = hostActivities(input.hostTimeoutSeconds);
  const key = (op: string, host: string) => `${input.runId}/${op}/${host}`;
  let failures = 0;

  const patchHost = async (record: HostRecord): Promise<void> => {
    if (control.skipped.includes(record.name)) {
      record.state = 'skipped';
      record.error = 'skipped by an operator';
      return;
    }
    record.state = 'patching';
    try {
      record.snapshotId = (
        await acts.snapshotHost({
          host: record.name,
          packages: input.patches.map((p) => p.package),
          idempotencyKey: key('snapshot', record.name),
        })
      ).snapshotId;
      record.changed = (
        await acts.patchHost({ host: record.name, patches: input.patches, idempotencyKey: key('patch', record.name) })
      ).changed;
      const health = await acts.checkHostHealth({ host: record.name, idempotencyKey: key('health', record.name) });
      if (!health.healthy) {
        throw ApplicationFailure.create({
          type: 'HostUnhealthy',
          message: `unhealthy after patching: ${health.detail}`,
          nonRetryable: true,
        });
      }
      record.state = 'patched';
    } catch (error) {
      if (isCancellation(error)) throw error;
      failures += 1;
      record.state = 'failed';
      record.error = describeError(error);
      if (record.snapshotId) await rollBack(acts, input.runId, record, record.snapshotId);
    } finally {
      record.at = new Date().toISOString();
    }
  };

  const notStarted = await slidingWindow(
    records,
    {
      paused: () => control.paused,
      concurrency: () => control.concurrency,
      stopped: () => control.stop || failures > input.failureBudget,
    },
    patchHost,
  );
  for (const record of notStarted) {
    record.state = 'skipped';
    record.error = control.stop ? 'not started: the rollout was stopped' : 'not started: the failure threshold was passed';
  }
  return { hosts: records.map(compact) };
}

/** What the parent keeps of a host (package changes stay in the batch's own history and query). */
function compact({ name, wave, state, snapshotId, error }: HostRecord): HostRecord {
  return { name, wave, state, snapshotId, error };
}

/** Rolls hosts back from their snapshots (after a stop or an abort), as a child workflow per batch. */
export async function rollbackBatch(input: RollbackBatchInput): Promise<PatchBatchResult> {
  const acts = hostActivities(input.hostTimeoutSeconds);
  const records: HostRecord[] = input.hosts.map((h) => ({ name: h.name, wave: 0, state: 'patched', snapshotId: h.snapshotId }));
  setHandler(batchProgressQuery, () => records);
  await slidingWindow(records, { paused: () => false, concurrency: () => input.concurrency, stopped: () => false }, (record) =>
    rollBack(acts, input.runId, record, record.snapshotId as string),
  );
  return { hosts: records };
}

async function rollBack(acts: RunbookActivities, runId: string, record: HostRecord, snapshotId: string): Promise<void> {
  try {
    await acts.restoreHostSnapshot({ host: record.name, snapshotId, idempotencyKey: `${runId}/restore/${record.name}` });
    record.state = 'rolled_back';
  } catch (error) {
    record.state = 'rollback_failed';
    record.error = `${record.error ? `${record.error}; ` : ''}rollback failed: ${describeError(error)}`;
  }
}
