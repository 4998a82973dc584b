import { securityPatchingInputSchema, type SecurityPatchingInput } from '@runbooks/contracts';
import { createLabFleet } from '../../../apps/worker/src/demo/lab-fixture';
import { withHostRecords } from '../harness/fleet-campaign';
import { eventually } from '../harness/worker';
import { killHard } from '../harness/worker-process';
import { WorkerFleet, approveProductionWhenPending, faultTestContext, launchPatching } from './fault-harness';
import path from 'node:path';

const KILLS = 15;
const KILL_EVERY_MS = 8_000;

const ctx = faultTestContext('faults-crash-loop');

test(`a crash-looping worker (${KILLS} SIGKILLs, one every ${KILL_EVERY_MS / 1000} s) during a 90-host rollout costs no host an attempt: 90 of 90 patched, none twice, none rolled back`, async () => {
  // Patches take a while, as on real hosts, so every kill lands on hosts in flight.
  const lab = await createLabFleet({
    dir: path.join(ctx.root, 'fleet'),
    canary: 2,
    production: 88,
    packages: { openssl: '3.0.11' },
    slowPatchMs: 1_500,
  });
  const fleet = (ctx.fleet = new WorkerFleet({
    // The fleet's folder is the data folder: its runbooks.sqlite is the store the fixture filled.
    RUNBOOKS_DATA_DIR: path.join(ctx.root, 'fleet'),
    RUNBOOKS_LAB_ROOT: lab.labRoot,
    RUNBOOKS_HOST_STATE_DIR: lab.stateDir,
  }));
  const input: SecurityPatchingInput = securityPatchingInputSchema.parse({
    targets: { tags: ['lab'] },
    patches: [{ package: 'openssl', version: '3.0.15' }],
    waves: ['rest'],
    // Few hosts at once, so the rollout outlasts the 15 kills even on a fast machine.
    concurrency: 3,
    batchSize: 30,
    bakeSeconds: 0,
    hostTimeoutSeconds: 60,
    // No failure tolerated: a single host charged with a worker's crash fails the run.
    failureThreshold: { count: 0 },
  });
  let worker = fleet.start();
  const { handle, result } = await launchPatching(ctx.client, fleet.taskQueue, input);
  let finished = false;
  void result.finally(() => (finished = true));
  await approveProductionWhenPending(handle, 120_000);

  const patchedCount = async () => (await lab.fleet.ledger()).filter((e) => e.op === 'patch').length;
  await eventually(async () => ((await patchedCount()) > 2 ? true : undefined), 60_000, 'production under way');
  const patchedAtKill: number[] = [];
  for (let kill = 0; kill < KILLS && !finished; kill++) {
    await new Promise((resolve) => setTimeout(resolve, KILL_EVERY_MS));
    await killHard(worker);
    patchedAtKill.push(await patchedCount());
    worker = fleet.start();
  }
  const state = await withHostRecords(await result, lab.store); // each host's record is in the store

  expect(patchedAtKill).toHaveLength(KILLS);
  expect(patchedAtKill[KILLS - 1]).toBeLessThan(90); // the last kill still found hosts to patch
  expect(state.status).toBe('succeeded');
  expect(state.rollout?.hosts).toHaveLength(lab.canary.length + lab.production.length);
  expect(state.rollout?.hosts.filter((h) => h.state !== 'patched')).toEqual([]);
  const ledger = await lab.fleet.ledger();
  const perHost = new Map<string, number>();
  for (const e of ledger.filter((l) => l.op === 'patch')) perHost.set(e.host, (perHost.get(e.host) ?? 0) + 1);
  expect(perHost.size).toBe(90);
  expect([...perHost].filter(([, n]) => n !== 1)).toEqual([]);
  expect(ledger.filter((e) => e.op === 'restore')).toEqual([]);
}, 600_000);
