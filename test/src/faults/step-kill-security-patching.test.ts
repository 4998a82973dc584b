import type { Client, Connection } from '@temporalio/client';
import {
  decideApprovalUpdate,
  TERMINAL_RUN_STATUSES,
  runStateQuery,
  securityPatchingInputSchema,
  type RunState,
  type RunbookStartArgs,
  type SecurityPatchingInput,
} from '@runbooks/contracts';
import { createLabFleet } from '../../../apps/worker/src/demo/lab-fixture';
import { eventually, testClient } from '../harness/worker';
import { WorkerFleet, approver, killAtEveryHold, technician } from './fault-harness';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

let client: Client;
let connection: Connection;
let root: string;
let fleet: WorkerFleet;

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'faults-steps-patch-'));
  ({ client, connection } = await testClient());
});

afterAll(async () => {
  await fleet?.killAll();
  await connection?.close();
  await fs.rm(root, { recursive: true, force: true });
});

test('a worker killed by SIGKILL while building the inventory, during a host action and while writing the report: each resumes on the next worker, no host patched twice', async () => {
  const lab = await createLabFleet({ dir: path.join(root, 'fleet'), canary: 1, production: 4, packages: { openssl: '3.0.11' } });
  const markerDir = path.join(root, 'held');
  await fs.mkdir(markerDir);
  fleet = new WorkerFleet({
    RUNBOOKS_DATA_DIR: path.join(root, 'data'),
    RUNBOOKS_INVENTORY_FILE: lab.inventoryFile,
    RUNBOOKS_LAB_ROOT: lab.labRoot,
    RUNBOOKS_HOST_STATE_DIR: lab.stateDir,
    RUNBOOKS_FAULT_HOLD_AFTER: 'resolveTargets,patchHost,writeReport',
    RUNBOOKS_FAULT_HOLD_DIR: markerDir,
  });
  const input: SecurityPatchingInput = securityPatchingInputSchema.parse({
    targets: { tags: ['lab'] },
    patches: [{ package: 'openssl', version: '3.0.15' }],
    waves: ['rest'],
    concurrency: 2,
    batchSize: 10,
    bakeSeconds: 0,
    hostTimeoutSeconds: 30,
    failureThreshold: { count: 0 },
  });
  const args: RunbookStartArgs<SecurityPatchingInput> = { input, requestedBy: technician };
  const handle = await client.workflow.start('securityPatching', {
    taskQueue: fleet.taskQueue,
    workflowId: `security-patching-${randomUUID()}`,
    args: [args],
  });
  const result = handle.result().catch(() => handle.query(runStateQuery)) as Promise<RunState>;
  const approved = (async () => {
    await eventually(
      async () => {
        const now = await handle.query(runStateQuery);
        return now.gates.some((g) => g.state === 'pending') || TERMINAL_RUN_STATUSES.includes(now.status) ? true : undefined;
      },
      240_000,
      'production gate',
    );
    if (TERMINAL_RUN_STATUSES.includes((await handle.query(runStateQuery)).status)) return;
    await handle.executeUpdate(decideApprovalUpdate, {
      args: [{ gateId: 'approve-production', decision: 'approve', comment: '', principal: approver }],
    });
  })();
  const held = await killAtEveryHold(fleet, markerDir, result);
  const state = await result;
  await approved;

  expect(state.rollout?.hosts.filter((h) => h.error)).toEqual([]);
  expect(held).toEqual(['resolveTargets', 'patchHost', 'writeReport']);
  expect(state.status).toBe('succeeded');
  expect(state.steps.find((s) => s.id === 'build-inventory')?.attempts).toBe(2);
  expect(state.steps.find((s) => s.id === 'write-report')?.attempts).toBe(2);
  // The host action held is retried after the kill and finds the patch applied: every host once.
  const patches = (await lab.fleet.ledger()).filter((e) => e.op === 'patch').map((e) => e.host);
  expect(patches.sort()).toEqual([...lab.canary, ...lab.production].sort());
  expect(state.rollout?.hosts.map((h) => h.state)).toEqual(state.rollout?.hosts.map(() => 'patched'));
}, 600_000);
