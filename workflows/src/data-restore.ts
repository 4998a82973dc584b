import { ApplicationFailure, TimeoutFailure, log, patched, proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import {
  chooseRestorePoint,
  dataRestoreRunbook,
  type DataRestoreInput,
  type RunState,
  type RunbookStartArgs,
  type SnapshotSummary,
  type WorkerAffinityActivities,
} from '@runbooks/contracts';
import type { BackupRepositoryRef, RunbookActivities } from '@runbooks/activities';
import { stepActivities } from './engine/activities';
import { RunbookRun, now } from './engine/run';

/**
 * Runs that send staging, verify and swap to one worker's own queue carry this marker; runs
 * recorded before it (any worker could run any step) replay down the old path.
 */
export const ONE_WORKER_PATCH = 'restore-on-one-worker';
/**
 * Runs that check the target against the stored policy again, on the swapping worker, right
 * before the swap; runs recorded before it swap without that activity.
 */
export const TARGET_POLICY_PATCH = 'restore-target-policy-recheck';
/**
 * Runs that open the repository (with its password) only after the approval; runs recorded before
 * it opened it and chose the restore point first.
 */
export const OPEN_AFTER_APPROVAL_PATCH = 'restore-open-after-approval';
/**
 * A task that waits this long on a worker's own queue means that worker is gone (nobody else
 * polls it). Long enough for a worker restarted with the same RUNBOOKS_WORKER_ID to come back.
 */
const WORKER_LOST_AFTER = '1 minute';
/** How many workers the staging, verify and swap sequence is started on before the run fails. */
const WORKERS_TRIED = 3;
/** Timeouts that mean "the worker holding the files stopped answering", not "the work failed". */
const WORKER_LOST_TIMEOUTS: ReadonlySet<string> = new Set(['SCHEDULE_TO_START', 'SCHEDULE_TO_CLOSE', 'HEARTBEAT']);
const WORKER_LOST = 'WorkerLost';
/**
 * A staging or verify attempt whose worker stops heartbeating is not retried on that worker's
 * queue (where it would wait WORKER_LOST_AFTER for nobody): it fails at once, within the heartbeat
 * timeout, and the sequence starts again on whichever worker answers. The swap keeps its retries.
 */
const LOST_WHILE_RUNNING = ['TemporalTimeout:Heartbeat'];
const PINNED_STEPS = ['restore-to-staging', 'verify-restored-content', 'swap-into-target'] as const;

const affinity = proxyActivities<WorkerAffinityActivities>({ startToCloseTimeout: '30 seconds', retry: { maximumAttempts: 5 } });

/**
 * Data restore (shared/docs/runbooks.md): verify the backup, choose a safe restore point,
 * get approval, restore with restic into staging, validate integrity, swap into place keeping
 * the previous contents, notify the affected users, document. Once swapped in, the restore is
 * the point of no return: a failing notification leaves it in place (succeeded_with_warnings);
 * only a cancel puts the previous contents back.
 */
export async function dataRestore(args: RunbookStartArgs<DataRestoreInput>): Promise<RunState> {
  const run = new RunbookRun(dataRestoreRunbook, args);
  const { input } = args;
  const { repository, path, target } = input;
  const stagingDir = `${target}.restore-staging-${safeSuffix(run.idempotencyKey)}`;
  const retainedCopyDir = `${target}.pre-restore-${safeSuffix(run.idempotencyKey)}`;

  return run.execute(async () => {
    const restorePoint = patched(OPEN_AFTER_APPROVAL_PATCH) ? await approveThenOpen(run, input) : await openThenApprove(run, input);

    const plan: RestorePlan = { repository, snapshotId: restorePoint.id, path, target, stagingDir, retainedCopyDir };
    const { restored, verified, swapped } = patched(ONE_WORKER_PATCH)
      ? await restoreOnOneWorker(run, plan)
      : await restoreVerifySwap(run, plan);
    // Verified and in place: a failing notification must not swap the damaged data back (issue 8).
    if (patched('restore-point-of-no-return')) run.pointOfNoReturn();
    run.setOutcome({
      filesRestored: verified.files,
      bytesRestored: verified.bytes,
      manifestSha256: verified.manifestSha256,
      retainedCopy: swapped.retainedCopyDir ?? 'none (target did not exist)',
      resticVerified: restored.resticVerified,
    });

    await run.step(
      'notify-users',
      (a) =>
        a.notify({
          runId: run.state.runId,
          recipients: input.affectedUsers,
          kind: 'run-completed',
          subject: `Your data at ${target} has been restored`,
          text: `${path} was restored from the backup of ${restorePoint.time} into ${target} (${verified.files} files). The previous contents are kept at ${swapped.retainedCopyDir ?? '(none)'}.${input.ticket ? ` Ticket: ${input.ticket}.` : ''}`,
          fields: {
            runId: run.state.runId,
            restorePoint: restorePoint.shortId,
            files: String(verified.files),
            ...(input.ticket ? { ticket: input.ticket } : {}),
          },
          idempotencyKey: `${run.idempotencyKey}/notify-users`,
        }),
      { summarize: (r) => `${input.affectedUsers.join(', ')} notified via ${r.channel}` },
    );
  });
}

/**
 * Before the approval only what needs no password: an unapproved run looks the same whether the
 * password is right or a guess (issue 10). After it the repository is opened (a wrong password
 * fails the run as "could not open the repository") and the restore point chosen; the approver
 * approves the request as made (the snapshot id, or the newest before an instant).
 */
async function approveThenOpen(run: RunbookRun<typeof dataRestoreRunbook>, input: DataRestoreInput): Promise<SnapshotSummary> {
  const { repository, path, target } = input;
  const before = input.before ?? now();
  await run.step('check-repository', (a) => a.probeBackupRepository({ repositoryUrl: repository.url }), {
    activity: { retry: { maximumAttempts: 3 } },
    summarize: (r) => r.summary,
  });
  const wanted = input.snapshotId ? `snapshot ${input.snapshotId}` : `the newest snapshot taken before ${before}`;
  run.setOutcome({ path, target });
  await run.approval('approve-restore', `Restore ${path} from ${wanted} into ${target}`, approvalPolicy(input));
  const backup = await run.step('open-repository', (a) => a.checkBackupRepository({ repository, launch: run.launch }), {
    activity: { retry: { maximumAttempts: 3 } },
    summarize: (r) => r.summary,
  });
  return chooseRestorePointStep(run, input, backup.snapshots, before);
}

/** Runs recorded before OPEN_AFTER_APPROVAL_PATCH: open, choose, then approve. */
async function openThenApprove(run: RunbookRun<typeof dataRestoreRunbook>, input: DataRestoreInput): Promise<SnapshotSummary> {
  const { repository, path, target } = input;
  const backup = await run.step('check-repository', (a) => a.checkBackupRepository({ repository, launch: run.launch }), {
    activity: {
      retry: {
        maximumAttempts: 3,
      },
    },
    summarize: (r) => r.summary,
  });
  const restorePoint = await chooseRestorePointStep(run, input, backup.snapshots, input.before ?? now());
  await run.approval('approve-restore', `Restore ${path} from ${restorePoint.shortId} into ${target}`, approvalPolicy(input));
  return restorePoint;
}

async function chooseRestorePointStep(
  run: RunbookRun<typeof dataRestoreRunbook>,
  input: DataRestoreInput,
  snapshots: SnapshotSummary[],
  before: string,
): Promise<SnapshotSummary> {
  const { path, target } = input;
  const restorePoint = await run.step(
    'choose-restore-point',
    async () => {
      const choice = chooseRestorePoint(snapshots, { path, snapshotId: input.snapshotId, before });
      if ('refusal' in choice) throw ApplicationFailure.create({ type: 'NoRestorePoint', message: choice.refusal, nonRetryable: true });
      return choice.snapshot;
    },
    { summarize: (s) => `snapshot ${s.shortId} taken ${s.time} on ${s.hostname}`, details: (s) => ({ snapshotId: s.id, time: s.time }) },
  );
  run.setOutcome({ restorePoint: `${restorePoint.shortId} (${restorePoint.time})`, path, target });
  return restorePoint;
}

function approvalPolicy(input: DataRestoreInput) {
  return {
    allowedRoles: ['approver' as const],
    requiredApprovals: 1,
    timeoutMs: input.approval.timeoutSeconds * 1000,
    escalation: [{ tier: 2, contact: input.approval.escalationContact }],
  };
}

export interface RestorePlan {
  repository: BackupRepositoryRef;
  snapshotId: string;
  path: string;
  target: string;
  stagingDir: string;
  retainedCopyDir: string;
}

/**
 * Staging, verify and swap read and write the same local folders, so they run on one machine:
 * the worker that answers `workerTaskQueue` on the shared queue gets all three (and their undo)
 * on its own queue. If that worker is lost before the swap (a task waits WORKER_LOST_AFTER on its
 * queue, or its heartbeat stops), the sequence starts again from the staging restore on whichever
 * worker answers next; restoreToStaging empties the staging folder first, so a half restore left
 * by a worker that comes back is never used. A worker lost during the swap is not replaced: the
 * swap is retried on its queue only (a worker restarted with the same RUNBOOKS_WORKER_ID finishes
 * it), and if it never returns the run fails and says so, since only that machine holds the target.
 */
export async function restoreOnOneWorker(run: RunbookRun, plan: RestorePlan): Promise<RestoreResults> {
  const workersLost: string[] = [];
  // Each step's attempts go on counting across the workers the sequence was started on.
  const attemptsBefore: Record<string, number> = {};
  for (let tried = 1; ; tried++) {
    const taskQueue = await affinity.workerTaskQueue();
    try {
      return await restoreVerifySwap(run, plan, { taskQueue, scheduleToStartTimeout: WORKER_LOST_AFTER }, attemptsBefore);
    } catch (error) {
      const failed = run.state.steps.find((s) => s.state === 'failed' && (PINNED_STEPS as readonly string[]).includes(s.id));
      const lostBy = workerLost(error);
      if (!failed || !lostBy) throw error;
      if (failed.id === 'swap-into-target') {
        failed.error = `the worker holding ${plan.target} (${taskQueue}) was lost during the swap; check ${plan.target} and ${plan.retainedCopyDir} on that machine`;
        throw ApplicationFailure.create({ type: WORKER_LOST, message: failed.error, nonRetryable: true, cause: error as Error });
      }
      if (tried >= WORKERS_TRIED) throw error;
      workersLost.push(`${taskQueue} stopped answering during ${failed.id}; started again from the staging restore`);
      run.setOutcome({ workersLost });
      log.warn('the worker holding the restore was lost; starting again on another worker', { taskQueue, step: failed.id });
      for (const step of run.state.steps) {
        if (!(PINNED_STEPS as readonly string[]).includes(step.id)) continue;
        // The attempt that lost its worker reported nothing; it counts if it had started.
        attemptsBefore[step.id] = step.attempts + (step === failed && lostBy !== 'SCHEDULE_TO_START' ? 1 : 0);
        Object.assign(step, { state: 'pending', error: undefined });
      }
    }
  }
}

export interface RestoreResults {
  restored: Awaited<ReturnType<RunbookActivities['restoreToStaging']>>;
  verified: Awaited<ReturnType<RunbookActivities['verifyRestoredContent']>>;
  swapped: Awaited<ReturnType<RunbookActivities['swapIntoTarget']>>;
}

/** Restore into staging, verify, swap, registering the undo of each; `pinned` sends all of it to one worker's queue. */
async function restoreVerifySwap(
  run: RunbookRun,
  { repository, snapshotId, path, target, stagingDir, retainedCopyDir }: RestorePlan,
  pinned?: Pick<ActivityOptions, 'taskQueue' | 'scheduleToStartTimeout'>,
  attemptsBefore: Record<string, number> = {},
): Promise<RestoreResults> {
  // Undo actions get the shared queue's activities from the engine; pinned ones use the worker's.
  const undoOn = (shared: RunbookActivities) => (pinned ? stepActivities(pinned, { attempted: () => undefined }) : shared);
  const where = (details: Record<string, unknown> = {}) => (pinned ? { ...details, workerTaskQueue: pinned.taskQueue } : details);
  const onWorker = pinned
    ? (options: ActivityOptions): ActivityOptions => ({ ...options, ...pinned })
    : (options: ActivityOptions) => options;
  const untilWorkerLost = (retry: ActivityOptions['retry']): ActivityOptions['retry'] =>
    pinned ? { ...retry, nonRetryableErrorTypes: LOST_WHILE_RUNNING } : retry;
  const withWorker = pinned ? { details: () => where() } : {};

  run.onUndo('restore-to-staging', 'Discard the staging folder', (a) => undoOn(a).discardStaging({ stagingDir }));
  const restored = await run.step(
    'restore-to-staging',
    (a) =>
      a.restoreToStaging({ repository, launch: run.launch, snapshotId, path, stagingDir, idempotencyKey: `${run.idempotencyKey}/restore` }),
    {
      activity: onWorker({ retry: untilWorkerLost({ maximumAttempts: 3 }) }),
      summarize: (r) => `${r.files} files, ${r.bytes} bytes restored into ${r.stagingDir}${r.resticVerified ? ' (restic verified)' : ''}`,
      attemptsBefore: attemptsBefore['restore-to-staging'],
      ...withWorker,
    },
  );

  const verified = await run.step(
    'verify-restored-content',
    (a) => a.verifyRestoredContent({ repository, launch: run.launch, snapshotId, path, stagingDir }),
    {
      activity: onWorker({ retry: untilWorkerLost({ maximumAttempts: 3 }) }),
      attemptsBefore: attemptsBefore['verify-restored-content'],
      summarize: (r) => `${r.files} files opened, sha256 of every file matches the backup (manifest ${r.manifestSha256.slice(0, 16)})`,
      details: (r) => where({ manifestSha256: r.manifestSha256, sample: r.sample }),
    },
  );

  // The policy may have changed since the launch (or the target's symlinks since the approval).
  const recheckPolicy = patched(TARGET_POLICY_PATCH);
  const swapped = await run.step(
    'swap-into-target',
    async (a) => {
      if (recheckPolicy) await a.checkRestoreTarget({ repository: repository.url, target });
      return a.swapIntoTarget({ target, stagingDir, retainedCopyDir, idempotencyKey: `${run.idempotencyKey}/swap` });
    },
    {
      // Two renames: a pinned swap that outlives this has lost its worker.
      activity: onWorker(pinned ? { startToCloseTimeout: '1 minute' } : {}),
      attemptsBefore: attemptsBefore['swap-into-target'],
      summarize: (r) => (r.retainedCopyDir ? `previous contents retained at ${r.retainedCopyDir}` : `${target} did not exist before`),
      ...withWorker,
    },
  );
  run.onUndo('swap-into-target', 'Put the previous contents back', (a) =>
    undoOn(a).restorePreviousContents({ target, retainedCopyDir: swapped.retainedCopyDir, idempotencyKey: `${run.idempotencyKey}/unswap` }),
  );
  return { restored, verified, swapped };
}

/** The timeout ending the failure chain when only a vanished worker explains it, else undefined. */
function workerLost(error: unknown): string | undefined {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if (e instanceof TimeoutFailure)
      return e.timeoutType !== undefined && WORKER_LOST_TIMEOUTS.has(e.timeoutType) ? e.timeoutType : undefined;
  }
  return undefined;
}

/** Folder-name-safe form of a run id. */
export function safeSuffix(runId: string): string {
  return runId.replace(/[^A-Za-z0-9._-]/g, '_');
}
