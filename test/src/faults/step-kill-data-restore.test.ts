import { allowRestoresIn } from '../harness/worker-process';
import type { RunState } from '@runbooks/contracts';
import { ResticFixture, readTree, writeTree } from '../../../apps/worker/src/demo/restic-fixture';
import {
  RESTORE_PASSWORD,
  RESTORE_PASSWORD_ENV,
  WorkerFleet,
  alive,
  approveWhenPending,
  faultTestContext,
  fileAppears,
  killAtEveryHold,
  launchRestore,
  restoreInput,
} from './fault-harness';
import { eventually } from '../harness/worker';
import fs from 'node:fs/promises';
import path from 'node:path';

/**
 * Every activity of a restore, held once each, in the order they are first called. The first
 * `notify` is the approval notice sent when the gate opens, so the notify-users step is not held.
 */
const HELD = [
  'probeBackupRepository',
  'notify',
  'checkBackupRepository',
  'restoreToStaging',
  'verifyRestoredContent',
  'swapIntoTarget',
  'writeReport',
];
/**
 * Attempts of each step once the run is done. A staging or verify attempt whose worker dies
 * starts the staging, verify and swap sequence again (workflows/src/data-restore.ts), so the
 * staging restore runs once more when verify's worker is killed; the other held steps are retried.
 */
const ATTEMPTS: Record<string, number> = {
  'check-repository': 2,
  'open-repository': 2,
  'restore-to-staging': 3,
  'verify-restored-content': 2,
  'swap-into-target': 2,
  'notify-users': 1,
  'write-report': 2,
};

const ctx = faultTestContext('faults-steps-restore');

test('a worker killed by SIGKILL in each step of a restore is replaced and every step resumes on the next worker, done once', async () => {
  const fixture = await ResticFixture.init(path.join(ctx.root, 'repo'), RESTORE_PASSWORD);
  const source = path.join(ctx.root, 'srv', 'projects');
  const v1 = { 'report.txt': 'quarterly report v1\n', 'data/ledger.csv': 'id,amount\n1,100\n' };
  await writeTree(source, v1);
  await fixture.backup(source, new Date('2026-11-01T10:00:00Z'));
  const target = path.join(ctx.root, 'target', 'projects');
  await writeTree(target, { 'report.txt': 'DAMAGED\n' });
  const markerDir = path.join(ctx.root, 'held');
  await fs.mkdir(markerDir);
  const dataDir = path.join(ctx.root, 'data');
  await allowRestoresIn(path.join(ctx.root, 'data'), fixture.repository, ctx.root);
  const fleet = (ctx.fleet = new WorkerFleet({
    RUNBOOKS_DATA_DIR: dataDir,
    [RESTORE_PASSWORD_ENV]: RESTORE_PASSWORD,
    RUNBOOKS_FAULT_HOLD_AFTER: HELD.join(','),
    RUNBOOKS_FAULT_HOLD_DIR: markerDir,
    // Each replacement is the same machine's worker restarted, as a deployment with a stable id
    // does: a swap, which only the machine holding the target can finish, resumes there.
    RUNBOOKS_WORKER_ID: 'restore-machine',
  }));

  const handle = await launchRestore(ctx.client, fleet.taskQueue, restoreInput(fixture, source, target));
  const result = handle.result() as Promise<RunState>;
  // The approval notice is held while the gate waits: approve once its worker is dead, so the
  // staging restore does not start on that worker and die with it (a loss the run would survive,
  // but one more than this test counts).
  const approved = (async () => {
    const notifyMarker = path.join(markerDir, 'notify');
    await fileAppears(notifyMarker, 240_000);
    const holder = Number(await fs.readFile(notifyMarker, 'utf8'));
    await eventually(async () => (alive(holder) ? undefined : true), 60_000, 'the worker holding the approval notice killed');
    await approveWhenPending(handle, 240_000);
  })();
  // Each resume takes the lost attempt's heartbeat timeout, a new worker's start and the step's own
  // work (a restic restore or verify): on a 2-core machine running the rest of the suite beside it,
  // over a minute at times (two CI runs timed out at 60 s resuming verify-restored-content).
  const held = await killAtEveryHold(fleet, markerDir, result, 180_000);
  await approved;
  const state = await result;

  expect(held).toEqual(HELD);
  expect(state.status).toBe('succeeded');
  expect(Object.fromEntries(Object.keys(ATTEMPTS).map((id) => [id, state.steps.find((s) => s.id === id)?.attempts]))).toEqual(ATTEMPTS);
  // The worker killed in staging and the one killed in verify are named, each starting the sequence again.
  expect(state.outcome?.workersLost).toEqual([
    expect.stringMatching(/@restore-machine stopped answering during restore-to-staging; started again from the staging restore$/),
    expect.stringMatching(/@restore-machine stopped answering during verify-restored-content; started again from the staging restore$/),
  ]);
  expect(await readTree(target)).toEqual(v1);
  // The swap was done once: the damaged contents are retained once, not swapped back and forth.
  expect(await readTree(String(state.outcome?.retainedCopy))).toEqual({ 'report.txt': 'DAMAGED\n' });
  const notices = (await fs.readFile(path.join(dataDir, 'notifications.jsonl'), 'utf8'))
    .split('\n')
    .filter((line) => line.includes(handle.workflowId));
  // The approval notice whose worker was killed is delivered once, like the completion notice.
  expect(notices.filter((line) => line.includes('approval-requested'))).toHaveLength(1);
  expect(notices.filter((line) => line.includes('run-completed'))).toHaveLength(1);
}, 600_000);
