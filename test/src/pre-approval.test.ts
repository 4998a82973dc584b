import type { Client, Connection, WorkflowHandle } from '@temporalio/client';
import {
  runStateQuery,
  securityPatchingInputSchema,
  type RunState,
  type RunbookStartArgs,
  type SecurityPatchingInput,
} from '@runbooks/contracts';
import { PreApprovalStore } from '@runbooks/activities';
import { createLabFleet, type LabFleetFixture } from '../../apps/worker/src/demo/lab-fixture';
import { eventually, startTestWorker, testClient, type TestWorker } from './harness/worker';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

const HASH = 'a1'.repeat(32);
const OTHER_HASH = 'b2'.repeat(32);

let client: Client;
let connection: Connection;
let root: string;
let lab: LabFleetFixture;
let worker: TestWorker;
let store: PreApprovalStore;

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'pre-approval-it-'));
  ({ client, connection } = await testClient());
  lab = await createLabFleet({ dir: root, canary: 1, production: 2, packages: { openssl: '3.0.11' } });
  store = new PreApprovalStore(lab.store);
  worker = await startTestWorker({ hosts: lab, store: lab.store });
});

afterAll(async () => {
  await worker?.stop();
  await lab?.store.close();
  await connection?.close();
  await fs.rm(root, { recursive: true, force: true });
});

/** Starts a run as a schedule would: with its schedule id and the hash of the schedule's input. */
async function scheduledRun(scheduleId: string, inputSha256: string): Promise<WorkflowHandle> {
  const input: SecurityPatchingInput = securityPatchingInputSchema.parse({
    targets: { tags: ['lab'] },
    patches: [{ package: 'openssl', version: '3.0.15' }],
    waves: ['rest'],
    bakeSeconds: 0,
  });
  const args: RunbookStartArgs<SecurityPatchingInput> = {
    input,
    requestedBy: { id: 'sam', displayName: 'Sam Scheduler' },
    scheduleId,
    inputSha256,
  };
  return client.workflow.start('securityPatching', {
    taskQueue: worker.taskQueue,
    workflowId: `security-patching-sched-${scheduleId}-${randomUUID()}`,
    args: [args],
  });
}

const approveAhead = (scheduleId: string, inputSha256: string, by = 'alex') =>
  store.add({
    scheduleId,
    gateId: 'approve-production',
    inputSha256,
    by,
    displayName: by === 'alex' ? 'Alex Approver' : by,
    comment: 'ok for Sunday',
  });

test('a pre-approval of the next occurrence is consumed by the run, recorded with who and when', async () => {
  const given = await approveAhead('weekly-patch', HASH);
  const handle = await scheduledRun('weekly-patch', HASH);
  const state = (await handle.result()) as RunState;
  expect(state.status).toBe('succeeded');
  expect(state.gates[0]).toMatchObject({ id: 'approve-production', state: 'approved' });
  expect(state.gates[0].decisions).toEqual([
    expect.objectContaining({ by: 'alex', decision: 'approve', at: given.at, comment: `approved ahead at ${given.at}: ok for Sunday` }),
  ]);
  expect((await store.list('weekly-patch'))[0].consumedBy).toBe(handle.workflowId);
  // Used once: the next run of the schedule waits for an approver again.
  const next = await scheduledRun('weekly-patch', HASH);
  const waiting = await eventually(
    async () => {
      const s = await next.query(runStateQuery);
      return s.gates[0]?.state === 'pending' ? s : undefined;
    },
    30_000,
    'second run waiting for approval',
  );
  expect(waiting.gates[0].decisions).toEqual([]);
  await next.terminate('test over');
});

test('a changed schedule input voids the pre-approval and the run waits for an approver', async () => {
  await approveAhead('nightly-patch', OTHER_HASH);
  const handle = await scheduledRun('nightly-patch', HASH);
  const state = await eventually(
    async () => {
      const s = await handle.query(runStateQuery);
      return s.gates[0]?.state === 'pending' ? s : undefined;
    },
    30_000,
    'run waiting for approval',
  );
  expect(state.gates[0].decisions).toEqual([]);
  expect(state.gates[0].notes?.[0]).toContain('is void: the schedule input changed after it was given');
  expect((await store.list('nightly-patch'))[0].voidedBecause).toBe('the schedule input changed after it was given');
  await handle.terminate('test over');
});

test('the schedule owner cannot approve their own scheduled run ahead', async () => {
  await approveAhead('owner-patch', HASH, 'sam');
  const handle = await scheduledRun('owner-patch', HASH);
  const state = await eventually(
    async () => {
      const s = await handle.query(runStateQuery);
      return s.gates[0]?.state === 'pending' ? s : undefined;
    },
    30_000,
    'run waiting for approval',
  );
  expect(state.gates[0].decisions).toEqual([]);
  await handle.terminate('test over');
});
