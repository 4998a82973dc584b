import { WorkflowFailedError, type Client, type Connection, type WorkflowHandle } from '@temporalio/client';
import {
  abortRolloutUpdate,
  decideApprovalUpdate,
  pauseRolloutUpdate,
  resumeRolloutUpdate,
  runStateQuery,
  securityPatchingInputSchema,
  setConcurrencyUpdate,
  skipHostUpdate,
  type Principal,
  type RunState,
  type RunbookStartArgs,
  type SecurityPatchingInput,
} from '@runbooks/contracts';
import type { LedgerEntry } from '@runbooks/activities';
import { createLabFleet, type LabFleetFixture } from '../../apps/worker/src/demo/lab-fixture';
import { approveProduction, gatePending, productionDone, whenState, withHostRecords } from './harness/fleet-campaign';
import { recordRunChainIfAsked } from './harness/recorded-histories';
import { startTestWorker, testClient, type TestWorker } from './harness/worker';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

const OLD = { openssl: '3.0.11', 'linux-image': '6.1.0-25' };
const PATCHES = [
  { package: 'openssl', version: '3.0.15' },
  { package: 'linux-image', version: '6.1.0-28' },
];
const tess = { id: 'tess', displayName: 'Tess Technician' };
const alex: Principal = { id: 'alex', displayName: 'Alex Approver', roles: ['approver'] };
const terry: Principal = { id: 'terry', displayName: 'Terry Technician', roles: ['technician'] };

let client: Client;
let connection: Connection;
let root: string;

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'patching-it-'));
  ({ client, connection } = await testClient());
});

afterAll(async () => {
  await connection?.close();
  await fs.rm(root, { recursive: true, force: true });
});

/** A fresh lab fleet and a worker acting on it, per test: ledgers never mix. */
async function labWithWorker(canary: number, production: number): Promise<{ lab: LabFleetFixture; worker: TestWorker }> {
  const lab = await createLabFleet({ dir: path.join(root, randomUUID()), canary, production, packages: OLD });
  const worker = await startTestWorker({ hosts: lab, store: lab.store });
  return { lab, worker };
}

function input(overrides: Partial<SecurityPatchingInput> = {}): SecurityPatchingInput {
  return securityPatchingInputSchema.parse({
    targets: { tags: ['lab'] },
    patches: PATCHES,
    waves: [1, '30%', 'rest'],
    concurrency: 3,
    batchSize: 4,
    bakeSeconds: 0,
    hostTimeoutSeconds: 20,
    failureThreshold: { count: 1 },
    approval: { timeoutSeconds: 600 },
    ...overrides,
  });
}

async function launch(worker: TestWorker, i: SecurityPatchingInput, inputSha256?: string): Promise<WorkflowHandle> {
  const args: RunbookStartArgs<SecurityPatchingInput> = { input: i, requestedBy: tess, inputSha256 };
  return client.workflow.start('securityPatching', {
    taskQueue: worker.taskQueue,
    workflowId: `security-patching-${randomUUID()}`,
    args: [args],
  });
}

function opsBy(ledger: LedgerEntry[], op: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const e of ledger.filter((l) => l.op === op)) counts.set(e.host, (counts.get(e.host) ?? 0) + 1);
  return counts;
}

/** The run's final state, with every host's record from the store. */
async function finalState(handle: WorkflowHandle, lab: LabFleetFixture): Promise<RunState> {
  await handle.result().catch((e: unknown) => {
    if (!(e instanceof WorkflowFailedError)) throw e;
  });
  return withHostRecords(await handle.query(runStateQuery), lab.store);
}

describe('security-patching runbook over a lab fleet on a real Temporal server', () => {
  test('patches the canary, waits for approval, then production in waves: every host exactly once', async () => {
    const { lab, worker } = await labWithWorker(2, 10);
    try {
      const handle = await launch(worker, input());
      const atGate = await withHostRecords(await whenState(handle, 'production gate pending', gatePending), lab.store);
      expect(atGate.rollout?.hosts.filter((h) => h.wave === 0).map((h) => h.state)).toEqual(['patched', 'patched']);
      expect(atGate.rollout?.hosts.filter((h) => h.wave > 0).every((h) => h.state === 'pending')).toBe(true);
      expect((await lab.fleet.readHost(lab.production[0])).packages).toEqual(OLD); // production untouched before approval

      await approveProduction(handle);
      const state = (await handle.result()) as RunState;
      expect(state.status).toBe('succeeded');
      expect(state.rollout?.waves.map((w) => [w.name, w.hosts, w.state])).toEqual([
        ['canary', 2, 'done'],
        ['wave 1', 1, 'done'],
        ['wave 2', 3, 'done'],
        ['wave 3', 6, 'done'],
      ]);
      const ledger = await lab.fleet.ledger();
      const patches = opsBy(ledger, 'patch');
      expect([...patches.keys()].sort()).toEqual([...lab.canary, ...lab.production].sort());
      expect([...patches.values()].every((n) => n === 1)).toBe(true);
      expect(opsBy(ledger, 'snapshot').size).toBe(12);
      expect((await lab.fleet.readHost(lab.production[9])).packages).toEqual({ openssl: '3.0.15', 'linux-image': '6.1.0-28' });
      const report = await fs.readFile(path.join(worker.reportsDir, `${handle.workflowId}.md`), 'utf8');
      expect(report).toContain('### Host by host');
      for (const host of lab.production) expect(report).toContain(`| ${host} |`);
      await recordRunChainIfAsked(client, handle, 'security-patching-waves');
    } finally {
      await worker.stop();
    }
  });

  test('an unhealthy canary host is rolled back and production is never touched', async () => {
    const { lab, worker } = await labWithWorker(2, 6);
    try {
      await lab.fleet.setFaults(lab.canary[1], { failHealth: true });
      const handle = await launch(worker, input());
      const state = await finalState(handle, lab);
      expect(state.status).toBe('failed');
      expect(state.rollout?.stopReason).toContain('failure threshold passed: 1 hosts failed, at most 0 tolerated');
      expect(state.rollout?.hosts.find((h) => h.name === lab.canary[1])).toMatchObject({ state: 'rolled_back' });
      expect((await lab.fleet.readHost(lab.canary[1])).packages).toEqual(OLD);
      const ledger = await lab.fleet.ledger();
      expect(ledger.filter((e) => lab.production.includes(e.host))).toEqual([]);
      expect(state.gates).toEqual([]); // never asked for production approval
    } finally {
      await worker.stop();
    }
  });

  test('passing the failure threshold stops the rollout and rolls back every changed host when the input says so', async () => {
    const { lab, worker } = await labWithWorker(1, 10);
    try {
      // wave 1 = 1 host, wave 2 = 3 hosts: two of them fail, one more than tolerated.
      await lab.fleet.setFaults(lab.production[1], { failHealth: true });
      await lab.fleet.setFaults(lab.production[2], { failPatch: true });
      const handle = await launch(worker, input({ rollback: 'all-changed-hosts', concurrency: 1 }));
      await approveProduction(handle);
      const state = await finalState(handle, lab);
      expect(state.status).toBe('failed');
      expect(state.rollout?.stopReason).toContain('failure threshold passed: 2 hosts failed');
      const ledger = await lab.fleet.ledger();
      const patched = opsBy(ledger, 'patch');
      const restored = opsBy(ledger, 'restore');
      // Hosts after the stop were never started, and the run says why.
      for (const host of lab.production.slice(4)) expect(patched.has(host)).toBe(false);
      expect(state.rollout?.hosts.filter((h) => h.wave === 3).map((h) => h.state)).toEqual(Array(6).fill('skipped'));
      expect(state.rollout?.hosts.find((h) => h.wave === 3)?.error).toContain('not started: failure threshold passed');
      // Every host that was changed is back on its snapshot, each restored once.
      for (const host of patched.keys()) {
        expect((await lab.fleet.readHost(host)).packages).toEqual(OLD);
        expect(restored.get(host)).toBe(1);
      }
      expect(state.compensations.find((c) => c.stepId === 'production-waves')?.state).toBe('done');
      await recordRunChainIfAsked(client, handle, 'security-patching-threshold-rollback');
    } finally {
      await worker.stop();
    }
  });

  test('operators pause, skip a host, change concurrency and resume; each action is recorded with who did it', async () => {
    const { lab, worker } = await labWithWorker(1, 6);
    try {
      const handle = await launch(worker, input({ waves: ['rest'] }));
      await whenState(handle, 'production gate pending', gatePending);
      await handle.executeUpdate(pauseRolloutUpdate, { args: [{ principal: terry, reason: 'change freeze call at 10:00' }] });
      await approveProduction(handle);
      await new Promise((r) => setTimeout(r, 1500));
      const paused = await withHostRecords(await handle.query(runStateQuery), lab.store);
      expect(paused.rollout?.paused).toBe(true);
      expect(paused.rollout?.hosts.filter((h) => h.wave > 0).every((h) => h.state === 'pending' || h.state === 'patching')).toBe(true);
      expect(opsBy(await lab.fleet.ledger(), 'patch').size).toBe(1); // only the canary

      await handle.executeUpdate(skipHostUpdate, { args: [{ principal: terry, host: lab.production[3], reason: 'database primary' }] });
      await handle.executeUpdate(setConcurrencyUpdate, { args: [{ principal: terry, concurrency: 1 }] });
      await handle.executeUpdate(resumeRolloutUpdate, { args: [{ principal: terry, reason: '' }] });
      const state = await withHostRecords((await handle.result()) as RunState, lab.store);

      expect(state.rollout?.hosts.find((h) => h.name === lab.production[3])).toMatchObject({
        state: 'skipped',
        error: 'skipped by an operator',
      });
      expect(opsBy(await lab.fleet.ledger(), 'patch').has(lab.production[3])).toBe(false);
      expect(state.rollout?.operatorActions.map((a) => [a.action, a.by])).toEqual([
        ['pause', 'terry'],
        ['skip-host', 'terry'],
        ['set-concurrency', 'terry'],
        ['resume', 'terry'],
      ]);
      expect(state.rollout?.concurrency).toBe(1);
      await expect(handle.executeUpdate(pauseRolloutUpdate, { args: [{ principal: terry, reason: '' }] })).rejects.toThrow(); // the rollout is over
    } finally {
      await worker.stop();
    }
  });

  test('an abort mid-wave lets in-flight hosts finish, then rolls back every changed host', async () => {
    // Batches of 4: [0-3] holds a hanging host, [4-7] is running when the abort lands, [8-11] never starts.
    const { lab, worker } = await labWithWorker(1, 12);
    try {
      await lab.fleet.setFaults(lab.production[2], { hang: true });
      const handle = await launch(
        worker,
        input({ waves: ['rest'], concurrency: 2, hostTimeoutSeconds: 2, failureThreshold: { count: 5 } }),
      );
      await approveProduction(handle);
      await whenState(handle, 'a production host patched', (s) => productionDone(s) > 0);
      await handle.executeUpdate(abortRolloutUpdate, { args: [{ principal: terry, reason: 'vendor pulled the patch', rollback: true }] });
      const state = await finalState(handle, lab);
      expect(state.status).toBe('cancelled');
      expect(state.cancellation).toMatchObject({ by: 'terry', reason: 'vendor pulled the patch' });
      const ledger = await lab.fleet.ledger();
      for (const host of opsBy(ledger, 'patch').keys()) expect((await lab.fleet.readHost(host)).packages).toEqual(OLD);
      for (const host of lab.production.slice(8)) expect(opsBy(ledger, 'patch').has(host)).toBe(false); // never started after the abort
      await recordRunChainIfAsked(client, handle, 'security-patching-aborted');
    } finally {
      await worker.stop();
    }
  });

  test('a campaign longer than the history budget continues as new and still patches every host once', async () => {
    const { lab, worker } = await labWithWorker(1, 40);
    try {
      const handle = await launch(
        worker,
        input({ waves: ['50%', 'rest'], batchSize: 3, concurrency: 3, failureThreshold: { percent: 10 } }),
      );
      await approveProduction(handle);
      const state = (await handle.result()) as RunState;
      expect(state.status).toBe('succeeded');
      expect(state.continuedAsNew).toBeGreaterThanOrEqual(1);
      const patches = opsBy(await lab.fleet.ledger(), 'patch');
      expect(patches.size).toBe(41);
      expect([...patches.values()].every((n) => n === 1)).toBe(true);
      expect(state.steps.find((s) => s.id === 'approve-production')?.state).toBe('succeeded'); // carried across
      await recordRunChainIfAsked(client, handle, 'security-patching-continued-as-new');
    } finally {
      await worker.stop();
    }
  });

  test('a 2-of-M gate needs two distinct approvers, and refuses a decision made for another input', async () => {
    const { worker } = await labWithWorker(1, 2);
    try {
      const hash = 'ab'.repeat(32);
      const handle = await launch(worker, input({ approval: { timeoutSeconds: 600, requiredApprovals: 2, escalation: [] } }), hash);
      await whenState(handle, 'production gate pending', gatePending);
      const decide = (principal: Principal, inputSha256?: string) =>
        handle.executeUpdate(decideApprovalUpdate, {
          args: [{ gateId: 'approve-production', decision: 'approve', comment: '', principal, inputSha256 }],
        });
      await expect(decide(alex, 'cd'.repeat(32))).rejects.toThrow(); // reviewed another input
      expect((await decide(alex, hash)).state).toBe('pending'); // one of two
      await expect(decide(alex)).rejects.toThrow(); // the same person twice
      const blair: Principal = { id: 'blair', displayName: 'Blair', roles: ['approver'] };
      const gate = await decide(blair);
      expect(gate.state).toBe('approved');
      expect(gate.inputSha256).toBe(hash);
      expect(gate.decisions.map((d) => d.by)).toEqual(['alex', 'blair']);
      expect(((await handle.result()) as RunState).status).toBe('succeeded');
      // A decision leaving the gate pending upserts no search attribute in its task; the closing one upserts once.
      const events = (await handle.fetchHistory()).events ?? [];
      const upsertsPerDecisionTask = events
        .flatMap((e, i) => (e.workflowExecutionUpdateAcceptedEventAttributes ? [i] : []))
        .map((start) => {
          const end = events.findIndex((e, i) => i > start && e.workflowTaskScheduledEventAttributes);
          return events.slice(start, end < 0 ? undefined : end).filter((e) => e.upsertWorkflowSearchAttributesEventAttributes).length;
        });
      expect(upsertsPerDecisionTask).toEqual([0, 1]);
    } finally {
      await worker.stop();
    }
  });

  test('an undecided gate escalates to tier 2, then tier 3, then rejects the run', async () => {
    const receiverWorker = await labWithWorker(1, 2);
    try {
      const handle = await launch(
        receiverWorker.worker,
        input({
          approval: {
            timeoutSeconds: 1,
            requiredApprovals: 1,
            escalation: [
              { tier: 2, contact: 'desktop-support' },
              { tier: 3, contact: 'server-team' },
            ],
          },
        }),
      );
      const state = await finalState(handle, receiverWorker.lab);
      expect(state.status).toBe('rejected');
      expect(state.gates[0].state).toBe('expired');
      expect(state.gates[0].escalations.map((e) => [e.tier, e.contact])).toEqual([
        [2, 'desktop-support'],
        [3, 'server-team'],
      ]);
      expect(opsBy(await receiverWorker.lab.fleet.ledger(), 'patch').size).toBe(1); // only the canary
    } finally {
      await receiverWorker.worker.stop();
    }
  });
});
