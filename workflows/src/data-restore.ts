import { ApplicationFailure } from '@temporalio/workflow';
import { chooseRestorePoint, dataRestoreRunbook, type DataRestoreInput, type RunState, type RunbookStartArgs } from '@runbooks/contracts';
import { RunbookRun, now } from './engine/run';

/**
 * Data restore (shared/docs/runbooks.md): verify the backup, choose a safe restore point,
 * get approval, restore with restic into staging, validate integrity, swap into place keeping
 * the previous contents, notify the affected users, document. A failure or cancel after the
 * swap puts the previous contents back.
 */
export async function dataRestore(args: RunbookStartArgs<DataRestoreInput>): Promise<RunState> {
  const run = new RunbookRun(dataRestoreRunbook, args);
  const { input } = args;
  const { repository, path, target } = input;
  const stagingDir = `${target}.restore-staging-${safeSuffix(run.idempotencyKey)}`;
  const retainedCopyDir = `${target}.pre-restore-${safeSuffix(run.idempotencyKey)}`;

  return run.execute(async () => {
    const backup = await run.step('check-repository', (a) => a.checkBackupRepository({ repository }), {
      activity: {
        retry: {
          maximumAttempts: 3,
        },
      },
      summarize: (r) => r.summary,
    });

    const restorePoint = await run.step(
      'choose-restore-point',
      async () => {
        const choice = chooseRestorePoint(backup.snapshots, { path, snapshotId: input.snapshotId, before: input.before ?? now() });
        if ('refusal' in choice) throw ApplicationFailure.create({ type: 'NoRestorePoint', message: choice.refusal, nonRetryable: true });
        return choice.snapshot;
      },
      { summarize: (s) => `snapshot ${s.shortId} taken ${s.time} on ${s.hostname}`, details: (s) => ({ snapshotId: s.id, time: s.time }) },
    );
    run.setOutcome({ restorePoint: `${restorePoint.shortId} (${restorePoint.time})`, path, target });

    await run.approval('approve-restore', `Restore ${path} from ${restorePoint.shortId} into ${target}`, {
      allowedRoles: ['approver'],
      requiredApprovals: 1,
      timeoutMs: input.approval.timeoutSeconds * 1000,
      escalation: [{ tier: 2, contact: input.approval.escalationContact }],
    });

    run.onUndo('restore-to-staging', 'Discard the staging folder', (a) => a.discardStaging({ stagingDir }));
    const restored = await run.step(
      'restore-to-staging',
      (a) =>
        a.restoreToStaging({ repository, snapshotId: restorePoint.id, path, stagingDir, idempotencyKey: `${run.idempotencyKey}/restore` }),
      {
        activity: {
          retry: { maximumAttempts: 3 },
        },
        summarize: (r) => `${r.files} files, ${r.bytes} bytes restored into ${r.stagingDir}${r.resticVerified ? ' (restic verified)' : ''}`,
      },
    );

    const verified = await run.step(
      'verify-restored-content',
      (a) => a.verifyRestoredContent({ repository, snapshotId: restorePoint.id, path, stagingDir }),
      {
        activity: { retry: { maximumAttempts: 3 } },
        summarize: (r) => `${r.files} files opened, sha256 of every file matches the backup (manifest ${r.manifestSha256.slice(0, 16)})`,
        details: (r) => ({ manifestSha256: r.manifestSha256, sample: r.sample }),
      },
    );

    const swapped = await run.step(
      'swap-into-target',
      (a) => a.swapIntoTarget({ target, stagingDir, retainedCopyDir, idempotencyKey: `${run.idempotencyKey}/swap` }),
      { summarize: (r) => (r.retainedCopyDir ? `previous contents retained at ${r.retainedCopyDir}` : `${target} did not exist before`) },
    );
    run.onUndo('swap-into-target', 'Put the previous contents back', (a) =>
      a.restorePreviousContents({ target, retainedCopyDir: swapped.retainedCopyDir, idempotencyKey: `${run.idempotencyKey}/unswap` }),
    );
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

/** Folder-name-safe form of a run id. */
function safeSuffix(runId: string): string {
  return runId.replace(/[^A-Za-z0-9._-]/g, '_');
}
