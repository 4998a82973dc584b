import { securityPatchingInputSchema, type SecurityPatchingInput } from '@runbooks/contracts';
import { createLabFleet } from '../../../apps/worker/src/demo/lab-fixture';
import { withHostRecords } from '../harness/fleet-campaign';
import { WorkerFleet, approveProductionWhenPending, faultTestContext, killAtEveryHold, launchPatching } from './fault-harness';
import fs from 'node:fs/promises';
import path from 'node:path';

const ctx = faultTestContext('faults-steps-patch');

test('a worker killed by SIGKILL while building the inventory, during a host action and while writing the report: each resumes on the next worker, no host patched twice', async () => {
  const lab = await createLabFleet({ dir: path.join(ctx.root, 'fleet'), canary: 1, production: 4, packages: { openssl: '3.0.11' } });
  const markerDir = path.join(ctx.root, 'held');
  await fs.mkdir(markerDir);
  const fleet = (ctx.fleet = new WorkerFleet({
    // The fleet's folder is the data folder: its runbooks.sqlite is the store the fixture filled.
    RUNBOOKS_DATA_DIR: path.join(ctx.root, 'fleet'),
    RUNBOOKS_LAB_ROOT: lab.labRoot,
    RUNBOOKS_HOST_STATE_DIR: lab.stateDir,
    RUNBOOKS_FAULT_HOLD_AFTER: 'planRollout,patchHost,writeReport',
    RUNBOOKS_FAULT_HOLD_DIR: markerDir,
  }));
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
  const { handle, result } = await launchPatching(ctx.client, fleet.taskQueue, input);
  const approved = approveProductionWhenPending(handle);
  const held = await killAtEveryHold(fleet, markerDir, result);
  const state = await withHostRecords(await result, lab.store); // each host's record is in the store
  await approved;

  expect(state.rollout?.hosts).toHaveLength(lab.canary.length + lab.production.length);
  expect(state.rollout?.hosts.filter((h) => h.error)).toEqual([]);
  expect(held).toEqual(['planRollout', 'patchHost', 'writeReport']);
  expect(state.status).toBe('succeeded');
  expect(state.steps.find((s) => s.id === 'build-inventory')?.attempts).toBe(2);
  expect(state.steps.find((s) => s.id === 'write-report')?.attempts).toBe(2);
  // The host action held is retried after the kill and finds the patch applied: every host once.
  const patches = (await lab.fleet.ledger()).filter((e) => e.op === 'patch').map((e) => e.host);
  expect(patches.sort()).toEqual([...lab.canary, ...lab.production].sort());
  expect(state.rollout?.hosts.map((h) => h.state)).toEqual(state.rollout?.hosts.map(() => 'patched'));
}, 600_000);
