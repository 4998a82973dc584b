import type { Client, Connection } from '@temporalio/client';
import type { DataRestoreInput, RunState } from '@runbooks/contracts';
import { ResticFixture, readTree, writeTree } from '../../../apps/worker/src/demo/restic-fixture';
import { testClient } from '../harness/worker';
import { RESTORE_PASSWORD, RESTORE_PASSWORD_ENV, WorkerFleet, approveWhenPending, launchRestore } from './fault-harness';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

const RESTORES = 25;

let client: Client;
let connection: Connection;
let root: string;
let fixture: ResticFixture;
let fleet: WorkerFleet;
let source: string;
const v1 = { 'report.txt': 'quarterly report v1\n', 'data/ledger.csv': 'id,amount\n1,100\n' };

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'faults-contention-'));
  fixture = await ResticFixture.init(path.join(root, 'repo'), RESTORE_PASSWORD);
  source = path.join(root, 'srv', 'projects');
  await writeTree(source, v1);
  await fixture.backup(source, new Date('2026-11-01T10:00:00Z'));
  ({ client, connection } = await testClient());
  fleet = new WorkerFleet({ RUNBOOKS_DATA_DIR: path.join(root, 'data'), [RESTORE_PASSWORD_ENV]: RESTORE_PASSWORD });
});

afterAll(async () => {
  await fleet?.killAll();
  await connection?.close();
  await fs.rm(root, { recursive: true, force: true });
});

test(`${RESTORES} restores launched together on one repository, on two worker processes, all succeed: lock contention is queued, not failed`, async () => {
  // Two processes: the queueing rests on restic's lock in the repository, not on anything in one process.
  fleet.start();
  fleet.start();
  const targets = await Promise.all(
    Array.from({ length: RESTORES }, async (_, i) => {
      const target = path.join(root, 'targets', String(i), 'projects');
      await writeTree(target, { 'report.txt': 'DAMAGED\n' });
      return target;
    }),
  );
  const input = (target: string): DataRestoreInput => ({
    repository: { url: fixture.repository, passwordRef: `env:${RESTORE_PASSWORD_ENV}` },
    path: source,
    target,
    affectedUsers: ['jane@example.test'],
    approval: { timeoutSeconds: 600, escalationContact: 'ops-2nd-line' },
  });

  const handles = await Promise.all(targets.map((target) => launchRestore(client, fleet.taskQueue, input(target))));
  await Promise.all(handles.map((handle) => approveWhenPending(handle, 240_000)));
  const states = (await Promise.all(handles.map((handle) => handle.result()))) as RunState[];

  expect(states.map((s) => s.status)).toEqual(states.map(() => 'succeeded'));
  // Waiting for the lock happens inside the step's one attempt: contention costs no retries.
  expect(states.map((s) => s.steps.find((step) => step.id === 'check-repository')?.attempts)).toEqual(states.map(() => 1));
  for (const target of targets) expect(await readTree(target)).toEqual(v1);
}, 300_000);
