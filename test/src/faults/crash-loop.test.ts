import type { Client, Connection } from '@temporalio/client';
import {
  decideApprovalUpdate,
  runStateQuery,
  securityPatchingInputSchema,
  type RunState,
  type RunbookStartArgs,
  type SecurityPatchingInput,
} from '@runbooks/contracts';
import { createLabFleet } from '../../../apps/worker/src/demo/lab-fixture';
import { eventually, testClient } from '../harness/worker';
import { killHard } from '../harness/worker-process';
import { WorkerFleet, approver, technician } from './fault-harness';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

const KILLS = 15;
const KILL_EVERY_MS = 8_000;

let client: Client;
let connection: Connection;
let root: string;
let fleet: WorkerFleet;

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'faults-crash-loop-'));
  ({ client, connection } = await testClient());
});

afterAll(async () => {
  await fleet?.killAll();
  await connection?.close();
  await fs.rm(root, { recursive: true, force: true });
});

test(`a crash-looping worker (${KILLS} SIGKILLs, one every ${KILL_EVERY_MS / 1000} s) during a 90-host rollout costs no host an attempt: 90 of 90 patched, none twice, none rolled back`, async () => {
  // Patches take a while, as on real hosts, so every kill lands on hosts in flight.
  const lab = await createLabFleet({
    dir: path.join(root, 'fleet'),
    canary: 2,
    production: 88,
    packages: { openssl: '3.0.11' },
    slowPatchMs: 1_500,
  });
  fleet = new WorkerFleet({
    RUNBOOKS_DATA_DIR: path.join(root, 'data'),
    RUNBOOKS_INVENTORY_FILE: lab.inventoryFile,
    RUNBOOKS_LAB_ROOT: lab.labRoot,
    RUNBOOKS_HOST_STATE_DIR: lab.stateDir,
  });
  const input: SecurityPatchingInput = securityPatchingInputSchema.parse({
    targets: { tags: ['lab'] },
    patches: [{ package: 'openssl', version: '3.0.15' }],
    waves: ['rest'],
    concurrency: 6,
    batchSize: 30,
    bakeSeconds: 0,
    hostTimeoutSeconds: 60,
    // No failure tolerated: a single host charged with a worker's crash fails the run.
    failureThreshold: { count: 0 },
  });
  const args: RunbookStartArgs<SecurityPatchingInput> = { input, requestedBy: technician };
  let worker = fleet.start();
  const handle = await client.workflow.start('securityPatching', {
    taskQueue: fleet.taskQueue,
    workflowId: `security-patching-${randomUUID()}`,
    args: [args],
  });
  let finished = false;
  const result = handle.result().then(
    (state) => state as RunState,
    () => handle.query(runStateQuery),
  );
  void result.finally(() => (finished = true));
  await eventually(async () => ((await handle.query(runStateQuery)).gates[0]?.state === 'pending' ? true : undefined), 120_000, 'gate');
  await handle.executeUpdate(decideApprovalUpdate, {
    args: [{ gateId: 'approve-production', decision: 'approve', comment: '', principal: approver }],
  });

  const patchedCount = async () => (await lab.fleet.ledger()).filter((e) => e.op === 'patch').length;
  await eventually(async () => ((await patchedCount()) > 2 ? true : undefined), 60_000, 'production under way');
  const patchedAtKill: number[] = [];
  for (let kill = 0; kill < KILLS && !finished; kill++) {
    await new Promise((resolve) => setTimeout(resolve, KILL_EVERY_MS));
    await killHard(worker);
    patchedAtKill.push(await patchedCount());
    worker = fleet.start();
  }
  const state = await result;

  expect(patchedAtKill).toHaveLength(KILLS);
  expect(patchedAtKill[KILLS - 1]).toBeLessThan(90); // the last kill still found hosts to patch
  expect(state.status).toBe('succeeded');
  expect(state.rollout?.hosts.filter((h) => h.state !== 'patched')).toEqual([]);
  const ledger = await lab.fleet.ledger();
  const perHost = new Map<string, number>();
  for (const e of ledger.filter((l) => l.op === 'patch')) perHost.set(e.host, (perHost.get(e.host) ?? 0) + 1);
  expect(perHost.size).toBe(90);
  expect([...perHost].filter(([, n]) => n !== 1)).toEqual([]);
  expect(ledger.filter((e) => e.op === 'restore')).toEqual([]);
}, 600_000);
