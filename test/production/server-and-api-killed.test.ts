import type { LedgerEntry } from '@runbooks/activities';
import type { RunState } from '@runbooks/contracts';
import { createLabFleet, type LabFleetFixture } from '../../apps/worker/src/demo/lab-fixture';
import { eventually } from '../src/harness/worker';
import { TOKENS, callApi, stackCommand } from './stack';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const OLD = { openssl: '3.0.11' };
const NEW = { openssl: '3.0.15' };

/** The pid the stack recorded for one of its processes (temporal, api-a, api-b, worker-a, worker-b). */
function stackPid(name: string): number {
  return Number(fs.readFileSync(path.join(process.env.RUNBOOKS_STACK_DIR as string, 'pids', name), 'utf8'));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function killAndWait(pid: number, what: string): Promise<void> {
  process.kill(pid, 'SIGKILL');
  await eventually(async () => (isAlive(pid) ? undefined : true), 10_000, `${what} gone`);
}

function countBy(ledger: LedgerEntry[], op: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const e of ledger.filter((l) => l.op === op)) counts.set(e.host, (counts.get(e.host) ?? 0) + 1);
  return counts;
}

/** The run's status through replica B; undefined while the API cannot answer (e.g. Temporal is down). */
async function runStatus(runId: string): Promise<RunState['status'] | undefined> {
  const answer = await callApi<RunState>('B', 'GET', `/v1/runs/${runId}`, TOKENS.technician).catch(() => undefined);
  return answer?.status === 200 ? answer.body.status : undefined;
}

async function finished(runId: string, timeoutMs: number): Promise<RunState['status']> {
  return eventually(
    async () => {
      const status = await runStatus(runId);
      return status && ['succeeded', 'succeeded_with_warnings', 'failed', 'cancelled'].includes(status) ? status : undefined;
    },
    timeoutMs,
    `run ${runId} finished`,
  );
}

/** A lab fleet in the stack's database and data folder (it replaces the inventory, as each test's fleet does). */
async function stackFleet(canary: number, production: number): Promise<LabFleetFixture> {
  return createLabFleet({
    store: { kind: 'postgres', url: process.env.RUNBOOKS_DATABASE_URL as string },
    dir: process.env.RUNBOOKS_DATA_DIR as string,
    prefix: `sk${randomUUID().slice(0, 8)}`,
    canary,
    production,
    packages: OLD,
    slowPatchMs: 300,
  });
}

function patchingInput(canary: string[], targets: string[], ticket: string) {
  return {
    targets: { names: targets },
    canary: { names: canary },
    patches: [{ package: 'openssl', version: NEW.openssl }],
    waves: ['rest'],
    concurrency: 6,
    batchSize: 40,
    bakeSeconds: 0,
    hostTimeoutSeconds: 30,
    failureThreshold: { count: 0 },
    ticket,
  };
}

async function approveProduction(runId: string): Promise<void> {
  await eventually(async () => ((await runStatus(runId)) === 'awaiting_approval' ? true : undefined), 120_000, `gate of ${runId}`);
  const approved = await callApi('B', 'POST', `/v1/runs/${runId}/approvals/approve-production`, TOKENS.approver, {
    decision: 'approve',
    comment: 'canary clean',
  });
  expect(approved.status).toBe(200);
}

test('the Temporal server killed with SIGKILL mid-wave and started again: the rollout finishes, every host patched exactly once, none rolled back', async () => {
  const lab = await stackFleet(2, 118);
  const everyHost = [...lab.canary, ...lab.production];
  const ledger = async () => (await lab.fleet.ledger()).filter((e) => everyHost.includes(e.host));
  let server = stackPid('temporal');
  try {
    const launched = await callApi<{ runId: string }>('A', 'POST', '/v1/runs', TOKENS.technician, {
      runbook: 'security-patching',
      input: patchingInput(lab.canary, everyHost, 'CHG-7101'),
    });
    expect(launched.status).toBe(201);
    const { runId } = launched.body;
    await approveProduction(runId);

    await eventually(async () => (countBy(await ledger(), 'patch').size >= 30 ? true : undefined), 120_000, 'wave under way');
    await killAndWait(server, 'the Temporal server');
    const patchedAtKill = countBy(await ledger(), 'patch').size;
    // While the server is down, the workers' polls, heartbeats and completions fail; nothing is lost.
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    stackCommand('temporal');
    server = stackPid('temporal');

    expect(await finished(runId, 300_000)).toBe('succeeded');
    expect(patchedAtKill).toBeLessThan(everyHost.length); // it died mid-wave
    const applied = await ledger();
    const patches = countBy(applied, 'patch');
    expect([...patches.keys()].sort()).toEqual([...everyHost].sort());
    expect([...patches].filter(([, n]) => n !== 1)).toEqual([]);
    expect(countBy(applied, 'restore').size).toBe(0);
    for (const host of everyHost) expect((await lab.fleet.readHost(host)).packages).toEqual(NEW);
  } finally {
    if (!isAlive(server)) stackCommand('temporal');
    await lab.store.close();
  }
});

test('API replica A killed with launches in flight: each launch retried on replica B with its idempotency key gives one run, and every run completes once', async () => {
  const LAUNCHES = 8;
  const lab = await stackFleet(LAUNCHES, LAUNCHES);
  const everyHost = [...lab.canary, ...lab.production];
  const ledger = async () => (await lab.fleet.ledger()).filter((e) => everyHost.includes(e.host));
  // Each launch patches its own pair of hosts, so "once" is checkable per host.
  const requests = Array.from({ length: LAUNCHES }, (_, i) => ({
    runbook: 'security-patching',
    idempotencyKey: `api-killed-${randomUUID()}`,
    input: patchingInput([lab.canary[i]], [lab.canary[i], lab.production[i]], `CHG-72${String(i).padStart(2, '0')}`),
  }));
  const server = stackPid('temporal');
  const apiA = stackPid('api-a');
  let serverFrozen = false;
  try {
    // Freeze the Temporal server so the launches are held inside replica A, then kill A: the
    // requests are in flight for certain, and some may reach Temporal after their caller is gone.
    process.kill(server, 'SIGSTOP');
    serverFrozen = true;
    const firstTries = requests.map((body) =>
      callApi<{ runId: string }>('A', 'POST', '/v1/runs', TOKENS.technician, body).then(
        (answer) => ({ answered: true as const, answer }),
        () => ({ answered: false as const }),
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await killAndWait(apiA, 'API replica A');
    process.kill(server, 'SIGCONT');
    serverFrozen = false;
    const outcomes = await Promise.all(firstTries);
    expect(outcomes.filter((o) => o.answered)).toEqual([]); // every launch was cut off in flight

    // The caller retries on the other replica with the same keys, as a client with retries would.
    const retried = [];
    for (const body of requests) {
      retried.push(
        await eventually(
          async () => {
            const answer = await callApi<{ runId: string }>('B', 'POST', '/v1/runs', TOKENS.technician, body).catch(() => undefined);
            return answer && [200, 201].includes(answer.status) ? answer : undefined;
          },
          60_000,
          `retry of ${body.idempotencyKey}`,
        ),
      );
    }
    const runIds = retried.map((r) => r.body.runId);
    expect(new Set(runIds).size).toBe(LAUNCHES);
    // A second retry of each finds the same run again: one key, one run, whatever reached Temporal first.
    for (const [i, body] of requests.entries()) {
      const again = await callApi<{ runId: string }>('B', 'POST', '/v1/runs', TOKENS.technician, body);
      expect({ status: again.status, runId: again.body.runId }).toEqual({ status: 200, runId: runIds[i] });
    }

    for (const runId of runIds) await approveProduction(runId);
    for (const runId of runIds) expect(await finished(runId, 240_000)).toBe('succeeded');
    const patches = countBy(await ledger(), 'patch');
    expect([...patches.keys()].sort()).toEqual([...everyHost].sort());
    expect([...patches].filter(([, n]) => n !== 1)).toEqual([]);

    // The killed replica comes back and serves again.
    stackCommand('api', 'a');
    const detail = await callApi<RunState>('A', 'GET', `/v1/runs/${runIds[0]}`, TOKENS.technician);
    expect(detail.status).toBe(200);
  } finally {
    if (serverFrozen) process.kill(server, 'SIGCONT');
    if (!isAlive(apiA) && !isAlive(stackPid('api-a'))) stackCommand('api', 'a');
    await lab.store.close();
  }
});
