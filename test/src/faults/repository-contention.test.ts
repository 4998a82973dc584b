import { allowRestoresIn } from '../harness/worker-process';
import type { RunState } from '@runbooks/contracts';
import { ResticFixture, readTree, writeTree } from '../../../apps/worker/src/demo/restic-fixture';
import {
  RESTORE_PASSWORD,
  RESTORE_PASSWORD_ENV,
  WorkerFleet,
  approveWhenPending,
  faultTestContext,
  launchRestore,
  restoreInput,
} from './fault-harness';
import path from 'node:path';

const RESTORES = 25;

const ctx = faultTestContext('faults-contention');
const v1 = { 'report.txt': 'quarterly report v1\n', 'data/ledger.csv': 'id,amount\n1,100\n' };

test(`${RESTORES} restores launched together on one repository, on two worker processes, all succeed: lock contention is queued, not failed`, async () => {
  const fixture = await ResticFixture.init(path.join(ctx.root, 'repo'), RESTORE_PASSWORD);
  const source = path.join(ctx.root, 'srv', 'projects');
  await writeTree(source, v1);
  await fixture.backup(source, new Date('2026-11-01T10:00:00Z'));
  await allowRestoresIn(path.join(ctx.root, 'data'), fixture.repository, ctx.root);
  const fleet = (ctx.fleet = new WorkerFleet({ RUNBOOKS_DATA_DIR: path.join(ctx.root, 'data'), [RESTORE_PASSWORD_ENV]: RESTORE_PASSWORD }));
  // Two processes: the queueing rests on restic's lock in the repository, not on anything in one process.
  fleet.start();
  fleet.start();
  const targets = await Promise.all(
    Array.from({ length: RESTORES }, async (_, i) => {
      const target = path.join(ctx.root, 'targets', String(i), 'projects');
      await writeTree(target, { 'report.txt': 'DAMAGED\n' });
      return target;
    }),
  );
  const handles = await Promise.all(
    targets.map((target) => launchRestore(ctx.client, fleet.taskQueue, restoreInput(fixture, source, target))),
  );
  // Generous: 25 runs share two workers and the machine with the other suites; a slow tail is not a failure here.
  await Promise.all(handles.map((handle) => approveWhenPending(handle, 480_000)));
  const states = (await Promise.all(handles.map((handle) => handle.result()))) as RunState[];

  expect(states.map((s) => s.status)).toEqual(states.map(() => 'succeeded'));
  // Waiting for the lock happens inside the step's attempt: no attempt of any step failed on a
  // lock (the failure a retried attempt carries, in its start event). Attempts lost to a busy
  // machine's heartbeats may still be retried: those are not contention.
  const lockFailures: string[] = [];
  for (const handle of handles) {
    for (const event of (await handle.fetchHistory()).events ?? []) {
      const message = event.activityTaskStartedEventAttributes?.lastFailure?.message ?? '';
      if (/locked/.test(message)) lockFailures.push(`${handle.workflowId}: ${message}`);
    }
  }
  expect(lockFailures).toEqual([]);
  for (const target of targets) expect(await readTree(target)).toEqual(v1);
}, 600_000);
