import type { RunState } from '@runbooks/contracts';
import { ResticFixture, readTree, writeTree } from '../../../apps/worker/src/demo/restic-fixture';
import { eventually } from '../harness/worker';
import { killHard, allowRestoresIn } from '../harness/worker-process';
import {
  RESTORE_PASSWORD,
  RESTORE_PASSWORD_ENV,
  WorkerFleet,
  alive,
  approveWhenPending,
  faultTestContext,
  launchRestore,
  processesMatching,
  restoreInput,
} from './fault-harness';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';

const ctx = faultTestContext('faults-restic');
let fixture: ResticFixture;
let source: string;
let fleet: WorkerFleet;
/** 40 MiB read at 8 MiB/s (RUNBOOKS_RESTIC_LIMIT_DOWNLOAD_KIB): restic restores for ~5 s, time to kill its worker. */
const content: Record<string, Buffer> = Object.fromEntries(
  Array.from({ length: 40 }, (_, i) => [`part-${String(i).padStart(2, '0')}.bin`, randomBytes(1024 * 1024)]),
);

beforeAll(async () => {
  fixture = await ResticFixture.init(path.join(ctx.root, 'repo'), RESTORE_PASSWORD);
  source = path.join(ctx.root, 'srv', 'projects');
  await writeTree(source, content);
  await fixture.backup(source, new Date('2026-11-01T10:00:00Z'));
  await allowRestoresIn(path.join(ctx.root, 'data'), fixture.repository, ctx.root);
  fleet = ctx.fleet = new WorkerFleet({
    RUNBOOKS_DATA_DIR: path.join(ctx.root, 'data'),
    [RESTORE_PASSWORD_ENV]: RESTORE_PASSWORD,
    RUNBOOKS_RESTIC_LIMIT_DOWNLOAD_KIB: '8192',
  });
});

/** The repository's lock files, read without locking. */
function repositoryLocks(): string[] {
  return execFileSync('restic', ['--no-cache', '--no-lock', '--repo', fixture.repository, 'list', 'locks'], {
    env: { ...process.env, RESTIC_PASSWORD: RESTORE_PASSWORD },
  })
    .toString('utf8')
    .split('\n')
    .filter(Boolean);
}

test('a worker killed while restic restores leaves no restic running, the run finishes on another worker, and the next restore removes the stale lock', async () => {
  const target = path.join(ctx.root, 'targets', 'first', 'projects');
  await writeTree(target, { 'report.txt': 'DAMAGED\n' });
  const first = fleet.start();
  const handle = await launchRestore(ctx.client, fleet.taskQueue, restoreInput(fixture, source, target));
  await approveWhenPending(handle);

  // Kill the worker while its restic restore runs (restic writes into <target>.restore-staging-…).
  // Matched on this test's own target: other test files restoring in parallel run restic too, and
  // their restic does not die with this worker.
  const restoring = await eventually(
    async () => {
      const pids = processesMatching('restic', 'restore', `${target}.restore-staging-`);
      return pids.length > 0 ? pids : undefined;
    },
    60_000,
    'restic restore running',
  );
  // Once restic holds its lock in the repository and has written some of the files, not before.
  await eventually(
    async () => (repositoryLocks().length > 0 && (await bytesUnder(path.dirname(target), '.restore-staging-')) > 0 ? true : undefined),
    30_000,
    'restore locked and writing',
  );
  await killHard(first);

  // The restic child dies with its worker (its parent-death signal), instead of writing on alone.
  await eventually(async () => (restoring.every((pid) => !alive(pid)) ? true : undefined), 10_000, 'orphaned restic gone');
  // It died by SIGKILL, so its (shared) lock stays behind: the case the next step must handle.
  expect(repositoryLocks().length).toBeGreaterThan(0);

  fleet.start();
  const state = (await handle.result()) as RunState;
  expect(state.status).toBe('succeeded');
  // The killed worker's own queue is abandoned at its heartbeat timeout (no other worker polls
  // it): the staging restore starts again on the new worker, its second attempt, and says why.
  expect(state.steps.find((s) => s.id === 'restore-to-staging')?.attempts).toBe(2);
  expect(state.outcome?.workersLost).toEqual([
    expect.stringMatching(/stopped answering during restore-to-staging; started again from the staging restore$/),
  ]);
  expect(Object.keys(await readTree(target)).sort()).toEqual(Object.keys(content).sort());

  // The next restore of the same repository needs restic check's exclusive lock: the stale lock
  // left by the killed restic is removed with restic unlock and the step says so.
  const secondTarget = path.join(ctx.root, 'targets', 'second', 'projects');
  await writeTree(secondTarget, { 'report.txt': 'DAMAGED\n' });
  const second = await launchRestore(ctx.client, fleet.taskQueue, restoreInput(fixture, source, secondTarget));
  await approveWhenPending(second);
  const secondState = (await second.result()) as RunState;
  expect(secondState.status).toBe('succeeded');
  const check = secondState.steps.find((s) => s.id === 'open-repository');
  expect(check?.attempts).toBe(1);
  expect(check?.summary).toMatch(
    /removed 1 stale lock with restic unlock \(PID \d+ on \S+ since .*: its process \(PID \d+ on \S+\) no longer runs\)/,
  );
  expect(repositoryLocks()).toEqual([]);
});

/** Bytes of the regular files below the entries of `dir` whose name contains `marker`. */
async function bytesUnder(dir: string, marker: string): Promise<number> {
  let total = 0;
  for (const entry of await fs.readdir(dir, { withFileTypes: true, recursive: true })) {
    const full = path.join(entry.parentPath, entry.name);
    if (entry.isFile() && full.includes(marker)) total += (await fs.stat(full).catch(() => ({ size: 0 }))).size;
  }
  return total;
}
