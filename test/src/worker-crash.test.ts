import type { Client, Connection } from '@temporalio/client';
import {
  decideApprovalUpdate,
  runStateQuery,
  securityPatchingInputSchema,
  type RunState,
  type RunbookStartArgs,
  type SecurityPatchingInput,
} from '@runbooks/contracts';
import { createLabFleet } from '../../apps/worker/src/demo/lab-fixture';
import { eventually, testClient } from './harness/worker';
import { killHard, spawnWorkerProcess } from './harness/worker-process';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

let client: Client;
let connection: Connection;
let root: string;
const workers: ChildProcess[] = [];

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'crash-it-'));
  ({ client, connection } = await testClient());
});

afterAll(async () => {
  for (const w of workers) await killHard(w);
  await connection?.close();
  await fs.rm(root, { recursive: true, force: true });
});

test('a worker process killed mid-wave is replaced and the campaign finishes with no host patched twice', async () => {
  const lab = await createLabFleet({ dir: path.join(root, 'fleet'), canary: 1, production: 60, packages: { openssl: '3.0.11' } });
  const taskQueue = `crash-${randomUUID()}`;
  const env = {
    RUNBOOKS_TASK_QUEUE: taskQueue,
    // The fleet's folder is the data folder: its runbooks.sqlite is the store the fixture filled.
    RUNBOOKS_DATA_DIR: path.join(root, 'fleet'),
    RUNBOOKS_LAB_ROOT: lab.labRoot,
    RUNBOOKS_HOST_STATE_DIR: lab.stateDir,
  };
  workers.push(spawnWorkerProcess(env));

  const input: SecurityPatchingInput = securityPatchingInputSchema.parse({
    targets: { tags: ['lab'] },
    patches: [{ package: 'openssl', version: '3.0.15' }],
    waves: ['rest'],
    concurrency: 2,
    batchSize: 20,
    bakeSeconds: 0,
    hostTimeoutSeconds: 5,
    failureThreshold: { count: 0 },
  });
  const args: RunbookStartArgs<SecurityPatchingInput> = { input, requestedBy: { id: 'tess', displayName: 'Tess' } };
  const handle = await client.workflow.start('securityPatching', {
    taskQueue,
    workflowId: `security-patching-${randomUUID()}`,
    args: [args],
  });
  await eventually(async () => ((await handle.query(runStateQuery)).gates[0]?.state === 'pending' ? true : undefined), 60_000, 'gate');
  await handle.executeUpdate(decideApprovalUpdate, {
    args: [
      {
        gateId: 'approve-production',
        decision: 'approve',
        comment: '',
        principal: { id: 'alex', displayName: 'Alex', roles: ['approver'] },
      },
    ],
  });

  // Kill the worker once production is under way, mid-wave.
  await eventually(
    async () => ((await lab.fleet.ledger()).filter((e) => e.op === 'patch').length >= 8 ? true : undefined),
    60_000,
    'patching under way',
  );
  await killHard(workers[0]);
  const patchedAtCrash = (await lab.fleet.ledger()).filter((e) => e.op === 'patch').length;
  expect(patchedAtCrash).toBeLessThan(61); // it really died mid-campaign

  workers.push(spawnWorkerProcess(env));
  const state = (await handle.result()) as RunState;

  expect(state.status).toBe('succeeded');
  const patches = (await lab.fleet.ledger()).filter((e) => e.op === 'patch');
  const perHost = new Map<string, number>();
  for (const p of patches) perHost.set(p.host, (perHost.get(p.host) ?? 0) + 1);
  expect(perHost.size).toBe(61);
  expect([...perHost.entries()].filter(([, n]) => n !== 1)).toEqual([]);
  for (const host of lab.production) expect((await lab.fleet.readHost(host)).packages.openssl).toBe('3.0.15');
});
