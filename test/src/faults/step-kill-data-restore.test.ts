import { allowRestoresIn } from '../harness/worker-process';
import type { RunState } from '@runbooks/contracts';
import { ResticFixture, readTree, writeTree } from '../../../apps/worker/src/demo/restic-fixture';
import {
  RESTORE_PASSWORD,
  RESTORE_PASSWORD_ENV,
  WorkerFleet,
  approveWhenPending,
  faultTestContext,
  killAtEveryHold,
  launchRestore,
  restoreInput,
} from './fault-harness';
import fs from 'node:fs/promises';
import path from 'node:path';

/** Every activity step of a restore, and the step that calls it. */
const HELD: Record<string, string> = {
  checkBackupRepository: 'check-repository',
  restoreToStaging: 'restore-to-staging',
  verifyRestoredContent: 'verify-restored-content',
  swapIntoTarget: 'swap-into-target',
  notify: 'notify-users',
  writeReport: 'write-report',
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
    RUNBOOKS_FAULT_HOLD_AFTER: Object.keys(HELD).join(','),
    RUNBOOKS_FAULT_HOLD_DIR: markerDir,
  }));

  const handle = await launchRestore(ctx.client, fleet.taskQueue, restoreInput(fixture, source, target));
  const result = handle.result() as Promise<RunState>;
  const approved = approveWhenPending(handle, 240_000);
  const held = await killAtEveryHold(fleet, markerDir, result);
  await approved;
  const state = await result;

  expect(held).toEqual(Object.keys(HELD));
  expect(state.status).toBe('succeeded');
  for (const stepId of Object.values(HELD)) expect([stepId, state.steps.find((s) => s.id === stepId)?.attempts]).toEqual([stepId, 2]);
  expect(await readTree(target)).toEqual(v1);
  // The swap was done once: the damaged contents are retained once, not swapped back and forth.
  expect(await readTree(String(state.outcome?.retainedCopy))).toEqual({ 'report.txt': 'DAMAGED\n' });
  const notices = (await fs.readFile(path.join(dataDir, 'notifications.jsonl'), 'utf8'))
    .split('\n')
    .filter((line) => line.includes(handle.workflowId) && line.includes('run-completed'));
  expect(notices).toHaveLength(1);
}, 600_000);
