import type { LedgerEntry } from '@runbooks/activities';
import type { RunState } from '@runbooks/contracts';
import { createLabFleet } from '../../apps/worker/src/demo/lab-fixture';
import { eventually } from '../src/harness/worker';
import { TOKENS, callApi, stackCommand, workerPid } from './stack';
import { randomUUID } from 'node:crypto';

const OLD = { openssl: '3.0.11' };
const NEW = { openssl: '3.0.15' };

function countBy(ledger: LedgerEntry[], op: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const e of ledger.filter((l) => l.op === op)) counts.set(e.host, (counts.get(e.host) ?? 0) + 1);
  return counts;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function runState(runId: string): Promise<RunState> {
  const answer = await callApi<RunState>('A', 'GET', `/v1/runs/${runId}`, TOKENS.technician);
  if (answer.status !== 200) throw new Error(`GET /v1/runs/${runId}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body;
}

/**
 * Exactly once across two workers rests on the host-operation ledger of the shared store: an
 * idempotency key is claimed in the database (a unique constraint) before the change is applied, so
 * a patch the killed worker recorded but did not report is not applied again by the other.
 */
/** This fleet's ledger after the rollout, for the exactly-once test. */
let patchesPerHost: Map<string, number> | undefined;

test('a 200-host rollout on both workers, one killed with SIGKILL mid-wave, finishes on the worker left: every host patched, the unhealthy ones rolled back', async () => {
  // The lab hosts both workers act on: their state in the stack's data folder, the inventory and
  // the host-operation ledger in the stack's database, which both APIs and both workers share.
  const inStackDatabase = { store: { kind: 'postgres' as const, url: process.env.RUNBOOKS_DATABASE_URL as string } };
  const lab = await createLabFleet({
    ...inStackDatabase,
    dir: process.env.RUNBOOKS_DATA_DIR as string,
    prefix: `pf${randomUUID().slice(0, 8)}`,
    canary: 2,
    production: 198,
    packages: OLD,
    slowPatchMs: 300,
  });
  // One host fails its health check while both workers run, two after worker a is gone.
  const unhealthy = [lab.production[5], lab.production[180], lab.production[190]];
  const everyHost = [...lab.canary, ...lab.production];
  // The lab's ledger is shared with earlier runs of the stack: only this fleet's hosts count.
  const ledger = async () => (await lab.fleet.ledger()).filter((e) => everyHost.includes(e.host));
  for (const host of unhealthy) await lab.fleet.setFaults(host, { failHealth: true, slowPatchMs: 300 });

  const launched = await callApi<{ runId: string }>('A', 'POST', '/v1/runs', TOKENS.technician, {
    runbook: 'security-patching',
    input: {
      targets: { tags: ['lab'] },
      patches: [{ package: 'openssl', version: NEW.openssl }],
      waves: ['10%', 'rest'],
      concurrency: 8,
      batchSize: 50,
      bakeSeconds: 0,
      hostTimeoutSeconds: 10,
      failureThreshold: { count: 5 },
      ticket: 'CHG-7002',
    },
  });
  expect(launched.status).toBe(201);
  const { runId } = launched.body;
  await eventually(async () => ((await runState(runId)).status === 'awaiting_approval' ? true : undefined), 120_000, 'production gate');
  const approved = await callApi('B', 'POST', `/v1/runs/${runId}/approvals/approve-production`, TOKENS.approver, {
    decision: 'approve',
    comment: 'canary clean',
  });
  expect(approved.status).toBe(200);

  const victim = workerPid('a');
  try {
    await eventually(async () => (countBy(await ledger(), 'patch').size >= 80 ? true : undefined), 120_000, 'wave under way');
    process.kill(victim, 'SIGKILL');
    await eventually(async () => (isAlive(victim) ? undefined : true), 10_000, 'worker a gone');
    const patchedAtKill = countBy(await ledger(), 'patch').size;
    expect(patchedAtKill).toBeLessThan(200); // it died mid-wave, with hosts still to patch

    const state = await eventually(
      async () => {
        const s = await runState(runId);
        return ['succeeded', 'failed', 'cancelled'].includes(s.status) ? s : undefined;
      },
      240_000,
      'rollout finished on the surviving worker',
    );
    expect(state.status).toBe('succeeded');

    const applied = await ledger();
    const patches = countBy(applied, 'patch');
    patchesPerHost = patches;
    expect([...patches.keys()].sort()).toEqual([...everyHost].sort());
    // Each unhealthy host is rolled back from its snapshot once, and is on its old packages again.
    const restores = countBy(applied, 'restore');
    expect([...restores.entries()].sort()).toEqual(unhealthy.map((h) => [h, 1]).sort());
    // The run's state carries counts; each host's record is paged from the store.
    const rolledBack = await callApi<{ hosts: { name: string }[] }>(
      'A',
      'GET',
      `/v1/runs/${runId}/hosts?state=rolled_back&pageSize=500`,
      TOKENS.technician,
    );
    expect(rolledBack.body.hosts.map((h) => h.name).sort()).toEqual([...unhealthy].sort());
    for (const host of unhealthy) expect((await lab.fleet.readHost(host)).packages).toEqual(OLD);
    for (const host of everyHost.filter((h) => !unhealthy.includes(h))) {
      expect((await lab.fleet.readHost(host)).packages).toEqual(NEW);
    }
  } finally {
    // Leave the stack as found: worker a back on its own queue, and this process's connections closed.
    if (!isAlive(victim)) stackCommand('worker', 'a');
    await lab.store.close();
  }
});

test('in that rollout no host was patched twice, though a worker died mid-patch', () => {
  expect(patchesPerHost?.size).toBe(200);
  expect([...(patchesPerHost ?? [])].filter(([, n]) => n !== 1)).toEqual([]);
});
