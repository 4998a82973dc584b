import { ApplicationFailure, proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import {
  chooseRestorePoint,
  drillPath,
  restoreDrillRunbook,
  type RestoreDrillInput,
  type RunState,
  type RunbookStartArgs,
  type WorkerAffinityActivities,
} from '@runbooks/contracts';
import { stepActivities } from './engine/activities';
import { RunbookRun, now } from './engine/run';

/** A task waiting this long on the drill's worker queue means that worker is gone: the drill fails, the next one runs elsewhere. */
const WORKER_LOST_AFTER = '1 minute';

const affinity = proxyActivities<WorkerAffinityActivities>({ startToCloseTimeout: '30 seconds', retry: { maximumAttempts: 5 } });

/**
 * Restore drill (shared/docs/runbooks.md, backups): check the repository, choose the path and
 * its newest snapshot, restore it into a scratch folder, verify every checksum against the
 * backup, discard the copy. No approval: nothing but the scratch folder changes. The outcome
 * records the result and the time to restore (restore and verification, in workflow time).
 * The scratch copy is on one worker's disk: restore, verify and discard run on that worker's own queue.
 */
export async function restoreDrill(args: RunbookStartArgs<RestoreDrillInput>): Promise<RunState> {
  const run = new RunbookRun(restoreDrillRunbook, args);
  const { repository, scratchDir } = args.input;
  const path = drillPath(args.input, run.state.runId);
  const stagingDir = `${scratchDir}/${run.idempotencyKey.replace(/[^A-Za-z0-9._-]/g, '_')}`;

  run.setOutcome({ path });
  return run.execute(() =>
    drill().catch((error: unknown) => {
      run.setOutcome({ result: 'failed' }); // why is the run's error
      throw error;
    }),
  );

  async function drill(): Promise<void> {
    const backup = await run.step('check-repository', (a) => a.checkBackupRepository({ repository, launch: run.launch }), {
      activity: { retry: { maximumAttempts: 3 } },
      summarize: (r) => r.summary,
    });

    const snapshot = await run.step(
      'choose-drill-path',
      async () => {
        const choice = chooseRestorePoint(backup.snapshots, { path, before: now() });
        if ('refusal' in choice) throw ApplicationFailure.create({ type: 'NoRestorePoint', message: choice.refusal, nonRetryable: true });
        return choice.snapshot;
      },
      {
        summarize: (s) => `${path} from snapshot ${s.shortId} taken ${s.time} on ${s.hostname}`,
        details: (s) => ({ snapshotId: s.id, path }),
      },
    );
    run.setOutcome({ snapshot: `${snapshot.shortId} (${snapshot.time})` });

    const pinned: Pick<ActivityOptions, 'taskQueue' | 'scheduleToStartTimeout'> = {
      taskQueue: await affinity.workerTaskQueue(),
      scheduleToStartTimeout: WORKER_LOST_AFTER,
    };
    const onWorker = (options: ActivityOptions): ActivityOptions => ({ ...options, ...pinned });
    const where = (details: Record<string, unknown> = {}) => ({ ...details, workerTaskQueue: pinned.taskQueue });

    const startedAt = Date.now();
    run.onUndo('restore-to-scratch', 'Discard the scratch copy', () =>
      stepActivities(pinned, { attempted: () => undefined }).discardStaging({ stagingDir }),
    );
    await run.step(
      'restore-to-scratch',
      (a) =>
        a.restoreToStaging({
          repository,
          launch: run.launch,
          snapshotId: snapshot.id,
          path,
          stagingDir,
          idempotencyKey: `${run.idempotencyKey}/restore`,
        }),
      {
        activity: onWorker({ heartbeatTimeout: '1 minute', retry: { maximumAttempts: 3 } }),
        summarize: (r) => `${r.files} files, ${r.bytes} bytes restored into ${r.stagingDir}`,
        details: () => where(),
      },
    );
    const verified = await run.step(
      'verify-checksums',
      (a) => a.verifyRestoredContent({ repository, launch: run.launch, snapshotId: snapshot.id, path, stagingDir }),
      {
        activity: onWorker({ heartbeatTimeout: '1 minute', retry: { maximumAttempts: 3 } }),
        summarize: (r) => `${r.files} files, sha256 of every file matches the backup (manifest ${r.manifestSha256.slice(0, 16)})`,
        details: (r) => where({ manifestSha256: r.manifestSha256, sample: r.sample }),
      },
    );
    const timeToRestoreSeconds = Math.round((Date.now() - startedAt) / 100) / 10;

    await run.step('discard-scratch', (a) => a.discardStaging({ stagingDir }), {
      activity: onWorker({}),
      summarize: () => `${stagingDir} removed`,
      details: () => where(),
    });
    run.setOutcome({
      result: 'passed',
      filesVerified: verified.files,
      bytesVerified: verified.bytes,
      manifestSha256: verified.manifestSha256,
      timeToRestoreSeconds,
    });
  }
}
