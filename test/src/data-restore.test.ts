import { WorkflowFailedError, type Client, type Connection, type WorkflowHandle } from '@temporalio/client';
import {
  decideApprovalUpdate,
  requestCancelUpdate,
  runStateQuery,
  type DataRestoreInput,
  type Principal,
  type RunState,
  type RunbookStartArgs,
  type RestoreTargetPolicy,
} from '@runbooks/contracts';
import { TestSecrets } from '../../activities/src/test-support/secrets';
import { WORKFLOW_STACK_TRACE_LIMIT } from '../../workflows/src/engine/stack-traces';
import { ResticFixture, readTree, writeTree } from '../../apps/worker/src/demo/restic-fixture';
import { eventually, startTestWorker, testClient, type TestWorker } from './harness/worker';
import { WebhookReceiver } from './harness/webhook-receiver';
import { acceptedUpdates, historyText } from './harness/history';
import { recordHistoryIfAsked } from './harness/recorded-histories';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

const PASSWORD = 'correct-horse-battery-staple-0451';
const PASSWORD_REF = 'secret:backup/restore-it';
const tess = { id: 'tess', displayName: 'Tess Technician' };
const alex: Principal = { id: 'alex', displayName: 'Alex Approver', roles: ['approver'] };
const tessPrincipal: Principal = { ...tess, roles: ['technician', 'approver'] };

let client: Client;
let connection: Connection;
let worker: TestWorker;
let receiver: WebhookReceiver;
let root: string;
let fixture: ResticFixture;
let oldSnapshot: string;
let secrets: TestSecrets;

const v1 = { 'report.txt': 'quarterly report v1\n', 'data/ledger.csv': 'id,amount\n1,100\n' };
const v2 = {
  'report.txt': 'quarterly report v2 (damaged later)\n',
  'data/ledger.csv': 'id,amount\n1,100\n2,200\n',
  'notes.md': '# notes\n',
};

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'restore-it-'));
  process.env.RUNBOOKS_SECRET_RESTORE_IT = PASSWORD;
  fixture = await ResticFixture.init(path.join(root, 'repo'), PASSWORD);
  const source = path.join(root, 'srv', 'projects');
  await writeTree(source, v1);
  oldSnapshot = await fixture.backup(source, new Date('2026-11-01T10:00:00Z'));
  await writeTree(source, v2);
  await fixture.backup(source, new Date('2026-11-15T10:00:00Z'));
  receiver = new WebhookReceiver();
  const webhookUrl = await receiver.start();
  ({ client, connection } = await testClient());
  secrets = new TestSecrets([
    {
      name: 'backup/restore-it',
      source: { backend: 'env', variable: 'RUNBOOKS_SECRET_RESTORE_IT' },
      runbooks: ['data-restore'],
      roles: ['technician'],
      repositories: [fixture.repository],
    },
  ]);
  worker = await startTestWorker({ webhookUrl, secrets: secrets.config, restoreTargets: allowTargets() });
});

afterAll(async () => {
  await worker?.stop();
  await connection?.close();
  await receiver?.stop();
  await fs.rm(root, { recursive: true, force: true });
  secrets?.remove();
});

/** The policy every worker of this file restores under: the fixture's repository into the targets folder. */
function allowTargets(): RestoreTargetPolicy {
  return { rules: [{ repository: fixture.repository, roots: [path.join(root, 'targets')] }] };
}

async function freshTarget(content: Record<string, string> = { 'report.txt': 'DAMAGED\n' }): Promise<string> {
  const target = path.join(root, 'targets', randomUUID(), 'projects');
  await writeTree(target, content);
  return target;
}

function restoreInput(target: string, overrides: Partial<DataRestoreInput> = {}): DataRestoreInput {
  return {
    repository: { url: fixture.repository, passwordRef: PASSWORD_REF },
    path: path.join(root, 'srv', 'projects'),
    before: '2026-11-10T00:00:00Z',
    target,
    affectedUsers: ['jane@example.test'],
    ticket: 'INC-1042',
    approval: { timeoutSeconds: 600, escalationContact: 'ops-2nd-line' },
    ...overrides,
  };
}

async function launch(input: DataRestoreInput, w: TestWorker = worker): Promise<WorkflowHandle> {
  const args: RunbookStartArgs<DataRestoreInput> = { input, requestedBy: tess };
  return client.workflow.start('dataRestore', { taskQueue: w.taskQueue, workflowId: `data-restore-${randomUUID()}`, args: [args] });
}

async function gatePending(handle: WorkflowHandle, gateId = 'approve-restore'): Promise<RunState> {
  return eventually(
    async () => {
      const state = await handle.query(runStateQuery);
      return state.gates.find((g) => g.id === gateId && g.state === 'pending') ? state : undefined;
    },
    30_000,
    `gate ${gateId} pending`,
  );
}

async function approve(handle: WorkflowHandle, by: Principal = alex) {
  return handle.executeUpdate(decideApprovalUpdate, {
    args: [{ gateId: 'approve-restore', decision: 'approve', comment: 'restore approved per INC-1042', principal: by }],
  });
}

async function failureOf(handle: WorkflowHandle): Promise<WorkflowFailedError> {
  const error = await handle.result().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WorkflowFailedError);
  return error as WorkflowFailedError;
}

describe('data-restore runbook on a real Temporal server with real restic', () => {
  test('restores the newest snapshot before the given time, keeps the old contents, notifies users and reports', async () => {
    const target = await freshTarget();
    const handle = await launch(restoreInput(target));
    const waiting = await gatePending(handle);
    expect(waiting.status).toBe('awaiting_approval');
    expect(await readTree(target)).toEqual({ 'report.txt': 'DAMAGED\n' }); // nothing touched before approval

    const gate = await approve(handle);
    expect(gate.state).toBe('approved');
    const state = (await handle.result()) as RunState;

    expect(state.status).toBe('succeeded');
    expect(await readTree(target)).toEqual(v1);
    const retained = String(state.outcome?.retainedCopy);
    expect(await readTree(retained)).toEqual({ 'report.txt': 'DAMAGED\n' });
    expect(state.steps.map((s) => [s.id, s.state])).toEqual([
      ['check-repository', 'succeeded'],
      ['approve-restore', 'succeeded'],
      ['open-repository', 'succeeded'],
      ['choose-restore-point', 'succeeded'],
      ['restore-to-staging', 'succeeded'],
      ['verify-restored-content', 'succeeded'],
      ['swap-into-target', 'succeeded'],
      ['notify-users', 'succeeded'],
      ['write-report', 'succeeded'],
    ]);
    expect(String(state.steps.find((s) => s.id === 'choose-restore-point')?.details?.snapshotId)).toMatch(new RegExp(`^${oldSnapshot}`));
    expect(state.outcome).toMatchObject({ filesRestored: 2, resticVerified: true });
    expect(state.gates[0].decisions).toEqual([
      expect.objectContaining({ by: 'alex', decision: 'approve', comment: 'restore approved per INC-1042' }),
    ]);
    expect(state.steps.find((s) => s.id === 'restore-to-staging')?.attempts).toBe(1);

    const notice = receiver.received.find((r) => r.body.runId === handle.workflowId && r.body.kind === 'run-completed');
    expect(notice?.body).toMatchObject({ recipients: ['jane@example.test'], subject: `Your data at ${target} has been restored` });
    expect(String(notice?.body.text)).toContain('INC-1042');

    const report = await fs.readFile(path.join(worker.reportsDir, `${handle.workflowId}.md`), 'utf8');
    expect(report).toContain('**Status:** succeeded');
    expect(report).toContain('**approve** by Alex Approver (alex)');
    expect(report).toContain(retained);
    await recordHistoryIfAsked(handle, 'data-restore-opened-after-approval');
  });

  test('the repository password never enters workflow history', async () => {
    const target = await freshTarget();
    const handle = await launch(restoreInput(target));
    await gatePending(handle);
    await approve(handle);
    await handle.result();
    const history = historyText(await handle.fetchHistory());
    expect(history).toContain(PASSWORD_REF); // the reference is there, so payloads were searched
    expect(history).not.toContain(PASSWORD);
  });

  test('refuses clearly when no snapshot of the path was taken before the given time, touching nothing', async () => {
    const target = await freshTarget();
    const handle = await launch(restoreInput(target, { before: '2026-10-01T00:00:00Z' }));
    // The restore point is chosen once the repository is open, after the approval (issue 10).
    await gatePending(handle);
    await approve(handle);
    const error = await failureOf(handle);
    expect(error.cause?.message).toContain('no snapshot of');
    expect(error.cause?.message).toContain('before 2026-10-01T00:00:00Z');
    const state = await handle.query(runStateQuery);
    expect(state.status).toBe('failed');
    expect(state.steps.find((s) => s.id === 'restore-to-staging')?.state).toBe('skipped');
    expect(await readTree(target)).toEqual({ 'report.txt': 'DAMAGED\n' });
  });

  test('stops at the health check after the approval when the repository is corrupted', async () => {
    const broken = await ResticFixture.init(path.join(root, `broken-${randomUUID()}`), PASSWORD);
    secrets.allowRepository('backup/restore-it', broken.repository);
    const src = path.join(root, 'broken-src');
    await writeTree(src, v1);
    await broken.backup(src, new Date('2026-11-01T10:00:00Z'));
    // Lose the smallest pack (file contents). A damaged tree pack is found too, but only after
    // restic's own read retries (~45 s), which would only slow the suite down.
    const packs = await listFiles(path.join(broken.repository, 'data'));
    const sizes = await Promise.all(packs.map(async (p) => (await fs.stat(p)).size));
    await fs.rm(packs[sizes.indexOf(Math.min(...sizes))]);
    const target = await freshTarget();
    const handle = await launch(restoreInput(target, { repository: { url: broken.repository, passwordRef: PASSWORD_REF }, path: src }));
    await gatePending(handle);
    await approve(handle);
    const error = await failureOf(handle);
    expect(error.cause?.message).toContain('is damaged; restic check found');
    const state = await handle.query(runStateQuery);
    expect(state.steps.find((s) => s.id === 'open-repository')).toMatchObject({ state: 'failed' });
    expect(await readTree(target)).toEqual({ 'report.txt': 'DAMAGED\n' });
  });

  test('a rejected approval ends the run as rejected without touching the target', async () => {
    const target = await freshTarget();
    const handle = await launch(restoreInput(target));
    await gatePending(handle);
    await handle.executeUpdate(decideApprovalUpdate, {
      args: [{ gateId: 'approve-restore', decision: 'reject', comment: 'wrong restore point', principal: alex }],
    });
    await failureOf(handle);
    const state = await handle.query(runStateQuery);
    expect(state.status).toBe('rejected');
    expect(state.gates[0]).toMatchObject({ state: 'rejected', decisions: [expect.objectContaining({ by: 'alex', decision: 'reject' })] });
    expect(await readTree(target)).toEqual({ 'report.txt': 'DAMAGED\n' });
  });

  test("the stack trace query names where a waiting run waits, each promise's stack cut to the sandbox's frame limit", async () => {
    const target = await freshTarget();
    const handle = await launch(restoreInput(target));
    await gatePending(handle);
    const trace = await handle.query<string>('__stack_trace');
    // One block per promise the run waits on, a line per frame.
    const frames = trace.split('\n\n').map((block) => block.split('\n').filter((line) => line.trim().startsWith('at ')));
    // The hook that records them drops at least its own frame of the limit.
    expect(Math.max(...frames.map((block) => block.length))).toBeLessThan(WORKFLOW_STACK_TRACE_LIMIT);
    // Still says where: the gate's wait, the engine's approval step and the runbook's body.
    expect(trace).toMatch(/at ApprovalGates\.open \(.*workflows\/src\/engine\/approvals\.ts:\d+:\d+\)/);
    expect(trace).toMatch(/workflows\/src\/engine\/run\.ts:\d+:\d+/);
    expect(trace).toMatch(/workflows\/src\/data-restore\.ts:\d+:\d+/);
    await handle.executeUpdate(decideApprovalUpdate, {
      args: [{ gateId: 'approve-restore', decision: 'reject', comment: 'only looking at its stack', principal: alex }],
    });
    await failureOf(handle);
  });

  test('the validator refuses self-approval, missing roles and decisions on a closed gate before they enter history', async () => {
    const target = await freshTarget();
    const handle = await launch(restoreInput(target));
    await gatePending(handle);
    await expect(
      handle.executeUpdate(decideApprovalUpdate, {
        args: [{ gateId: 'approve-restore', decision: 'approve', comment: '', principal: tessPrincipal }],
      }),
    ).rejects.toThrow(/update failed|another person/i);
    const technicianOnly: Principal = { id: 'ted', displayName: 'Ted', roles: ['technician'] };
    await expect(
      handle.executeUpdate(decideApprovalUpdate, {
        args: [{ gateId: 'approve-restore', decision: 'approve', comment: '', principal: technicianOnly }],
      }),
    ).rejects.toThrow();
    await approve(handle);
    await expect(approve(handle, { id: 'blair', displayName: 'Blair', roles: ['approver'] })).rejects.toThrow();
    await handle.result();
    expect(acceptedUpdates(await handle.fetchHistory())).toBe(1); // only alex's decision entered history
    const state = await handle.query(runStateQuery);
    expect(state.gates[0].decisions.map((d) => d.by)).toEqual(['alex']);
  });

  test('escalates to the next tier when nobody decides in time, then rejects', async () => {
    const target = await freshTarget();
    const handle = await launch(restoreInput(target, { approval: { timeoutSeconds: 2, escalationContact: 'noc-tier2' } }));
    await failureOf(handle);
    const state = await handle.query(runStateQuery);
    expect(state.status).toBe('rejected');
    expect(state.gates[0].state).toBe('expired');
    expect(state.gates[0].escalations).toEqual([expect.objectContaining({ tier: 2, contact: 'noc-tier2' })]);
    const escalation = receiver.received.find((r) => r.body.runId === handle.workflowId && r.body.kind === 'escalation');
    expect(escalation?.body.recipients).toEqual(['noc-tier2']);
    await recordHistoryIfAsked(handle, 'data-restore-escalated-expired');
    expect(await readTree(target)).toEqual({ 'report.txt': 'DAMAGED\n' });
  });

  test('cancel after the swap puts the previous contents back and records who cancelled', async () => {
    let releaseNotify!: () => void;
    const notifyHeld = new Promise<void>((resolve) => (releaseNotify = resolve));
    let notifyStarted!: () => void;
    const notifyReached = new Promise<void>((resolve) => (notifyStarted = resolve));
    const slowWorker = await startTestWorker({
      secrets: secrets.config,
      restoreTargets: allowTargets(),
      overrideActivities: (real) => ({
        notify: async (input) => {
          if (input.kind === 'run-completed') {
            notifyStarted();
            await notifyHeld; // hold the run after the swap so the test can cancel it there
          }
          return real.notify(input);
        },
      }),
    });
    try {
      const target = await freshTarget();
      const handle = await launch(restoreInput(target), slowWorker);
      await gatePending(handle);
      await approve(handle);
      await notifyReached;
      expect(await readTree(target)).toEqual(v1); // swapped in
      await handle.executeUpdate(requestCancelUpdate, { args: [{ reason: 'user found the file elsewhere', principal: tessPrincipal }] });
      await handle.cancel();
      // Release the held notification only once the run has taken the cancel in.
      await eventually(
        async () => ((await handle.query(runStateQuery)).status === 'cancelled' ? true : undefined),
        30_000,
        'run cancelled',
      );
      releaseNotify();
      await expect(handle.result()).rejects.toThrow();
      const state = await handle.query(runStateQuery);
      expect(state.status).toBe('cancelled');
      expect(state.cancellation).toMatchObject({ by: 'tess', reason: 'user found the file elsewhere' });
      expect(state.compensations.find((c) => c.stepId === 'swap-into-target')?.state).toBe('done');
      expect(state.steps.find((s) => s.id === 'swap-into-target')?.state).toBe('compensated');
      expect(await readTree(target)).toEqual({ 'report.txt': 'DAMAGED\n' });
      await recordHistoryIfAsked(handle, 'data-restore-cancelled-after-swap-one-worker');
    } finally {
      releaseNotify();
      await slowWorker.stop();
    }
  });

  test('a notifier answering 404 after the swap keeps the restored data and ends succeeded_with_warnings', async () => {
    receiver.status = 404;
    try {
      const target = await freshTarget();
      const handle = await launch(restoreInput(target));
      await gatePending(handle);
      await approve(handle);
      const state = (await handle.result()) as RunState;
      expect(state.status).toBe('succeeded_with_warnings');
      expect(await readTree(target)).toEqual(v1); // the verified restore stays in place
      expect(state.pointOfNoReturn).toMatchObject({ afterStep: 'swap-into-target' });
      expect(state.warnings).toEqual([expect.stringMatching(/Notify the affected users: .*HTTP 404/)]);
      expect(state.steps.find((s) => s.id === 'notify-users')?.state).toBe('failed');
      expect(state.steps.find((s) => s.id === 'swap-into-target')?.state).toBe('succeeded');
      expect(state.compensations.every((c) => c.state === 'registered')).toBe(true); // nothing undone
      const report = await fs.readFile(path.join(worker.reportsDir, `${handle.workflowId}.md`), 'utf8');
      expect(report).toContain('**Status:** succeeded_with_warnings');
      expect(report).toMatch(/\*\*Warning:\*\* Notify the affected users: .*HTTP 404/);
    } finally {
      receiver.status = 200;
    }
  });

  test('a step that fails once and then succeeds shows two attempts', async () => {
    let calls = 0;
    const flakyWorker = await startTestWorker({
      secrets: secrets.config,
      restoreTargets: allowTargets(),
      overrideActivities: (real) => ({
        probeBackupRepository: async (input) => {
          calls += 1;
          if (calls === 1) throw new Error('connection reset while reading the repository config');
          return real.probeBackupRepository(input);
        },
      }),
    });
    try {
      const handle = await launch(restoreInput(await freshTarget()), flakyWorker);
      const state = await gatePending(handle);
      expect(state.steps[0]).toMatchObject({ id: 'check-repository', state: 'succeeded', attempts: 2 });
      await handle.cancel();
    } finally {
      await flakyWorker.stop();
    }
  });

  test('a checksum mismatch after restore fails verification and leaves the target untouched', async () => {
    const corruptingWorker = await startTestWorker({
      secrets: secrets.config,
      restoreTargets: allowTargets(),
      overrideActivities: (real) => ({
        restoreToStaging: async (input) => {
          const result = await real.restoreToStaging(input);
          await fs.appendFile(path.join(input.stagingDir, 'report.txt'), 'bit rot'); // the disk corrupts a file after restore
          return result;
        },
      }),
    });
    try {
      const target = await freshTarget();
      const handle = await launch(restoreInput(target), corruptingWorker);
      await gatePending(handle);
      await approve(handle);
      const error = await failureOf(handle);
      expect(error.cause?.message).toContain('report.txt');
      const state = await handle.query(runStateQuery);
      expect(state.steps.find((s) => s.id === 'verify-restored-content')?.state).toBe('failed');
      expect(state.steps.find((s) => s.id === 'swap-into-target')?.state).toBe('skipped');
      expect(state.compensations.find((c) => c.stepId === 'restore-to-staging')?.state).toBe('done');
      expect(await readTree(target)).toEqual({ 'report.txt': 'DAMAGED\n' });
      await expect(fs.access(`${target}.restore-staging-${handle.workflowId}`)).rejects.toThrow();
    } finally {
      await corruptingWorker.stop();
    }
  });
});

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await fs.readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(path.join(entry.parentPath, entry.name));
  }
  return out.sort();
}
