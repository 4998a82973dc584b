import type { Client, Connection, WorkflowHandle } from '@temporalio/client';
import {
  claimTaskUpdate,
  completeTaskUpdate,
  reassignTaskUpdate,
  releaseTaskUpdate,
  runStateQuery,
  type DiskReplacementInput,
  type Principal,
  type RunState,
  type RunbookStartArgs,
  type TaskRecord,
} from '@runbooks/contracts';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { acceptedUpdates } from './harness/history';
import { WebhookReceiver } from './harness/webhook-receiver';
import { eventually, startTestWorker, testClient, type TestWorker } from './harness/worker';

const fran: Principal = { id: 'fran', displayName: 'Fran First-Line', roles: ['tier1'] };
const gus: Principal = { id: 'gus', displayName: 'Gus Second-Line', roles: ['tier2'] };
const hana: Principal = { id: 'hana', displayName: 'Hana Third-Line', roles: ['tier3'] };
const alex: Principal = { id: 'alex', displayName: 'Alex Approver', roles: ['approver'] };
const evidence = { removedSerial: 'WD-OLD-1234', installedSerial: 'WD-NEW-5678', rebuildStarted: true };

let client: Client;
let connection: Connection;
let worker: TestWorker;
let receiver: WebhookReceiver;

beforeAll(async () => {
  receiver = new WebhookReceiver();
  const webhookUrl = await receiver.start();
  ({ client, connection } = await testClient());
  worker = await startTestWorker({ webhookUrl });
});

afterAll(async () => {
  await worker?.stop();
  await connection?.close();
  await receiver?.stop();
});

async function launch(overrides: Partial<DiskReplacementInput> = {}): Promise<WorkflowHandle> {
  const input: DiskReplacementInput = { host: 'db-07', slot: 'bay 3', notify: ['dba-team'], slaSeconds: 600, ...overrides };
  const args: RunbookStartArgs<DiskReplacementInput> = { input, requestedBy: { id: 'tess', displayName: 'Tess Technician' } };
  return client.workflow.start('diskReplacement', {
    taskQueue: worker.taskQueue,
    workflowId: `disk-replacement-${randomUUID()}`,
    args: [args],
  });
}

async function taskWhere(handle: WorkflowHandle, what: string, check: (task: TaskRecord, state: RunState) => boolean): Promise<TaskRecord> {
  return eventually(
    async () => {
      const state = await handle.query(runStateQuery);
      const task = state.tasks?.find((t) => t.id === 'swap-disk');
      return task && check(task, state) ? task : undefined;
    },
    30_000,
    what,
  );
}

const claim = (handle: WorkflowHandle, principal: Principal) =>
  handle.executeUpdate(claimTaskUpdate, { args: [{ taskId: 'swap-disk', principal }] });
const complete = (handle: WorkflowHandle, principal: Principal, given: Record<string, unknown> = evidence) =>
  handle.executeUpdate(completeTaskUpdate, { args: [{ taskId: 'swap-disk', principal, evidence: given }] });

describe('human tasks on a real Temporal server', () => {
  test('the run waits on the task (awaiting_task), takes the evidence and puts it in the report', async () => {
    const handle = await launch();
    const task = await taskWhere(handle, 'task open', (t, s) => t.state === 'open' && s.status === 'awaiting_task');
    expect(task).toMatchObject({
      assignedRole: 'tier1',
      eligibleRoles: ['tier1'],
      overdue: false,
      instructions: expect.stringContaining('bay 3'),
    });
    expect(task.evidenceSchema).toMatchObject({ type: 'object', required: ['removedSerial', 'installedSerial', 'rebuildStarted'] });
    const description = await handle.describe();
    expect(description.searchAttributes.AwaitingTask).toEqual([true]);

    await claim(handle, fran);
    const done = await complete(handle, fran);
    expect(done).toMatchObject({ state: 'done', evidence, completedBy: { id: 'fran' } });
    const state = (await handle.result()) as RunState;
    expect(state.status).toBe('succeeded');
    expect(state.outcome).toMatchObject({ removedSerial: 'WD-OLD-1234', installedSerial: 'WD-NEW-5678' });
    expect(state.steps.find((s) => s.id === 'swap-disk')).toMatchObject({
      state: 'succeeded',
      summary: 'done by Fran First-Line',
      details: evidence,
    });
    const report = await fs.readFile(path.join(worker.reportsDir, `${handle.workflowId}.md`), 'utf8');
    expect(report).toContain('## Tasks');
    expect(report).toContain('- Evidence **installedSerial:** WD-NEW-5678');
    expect(report).toMatch(/\*\*claim\*\* by fran/);
    expect((await handle.describe()).searchAttributes.AwaitingTask).toEqual([false]);
  });

  test('validators refuse a wrong role, completing without a claim and evidence off the form, before anything enters history', async () => {
    const handle = await launch();
    await taskWhere(handle, 'task open', (t) => t.state === 'open');
    await expect(claim(handle, alex)).rejects.toMatchObject({
      cause: { type: 'RunbookForbidden', message: expect.stringContaining('tier1') },
    });
    await expect(complete(handle, fran)).rejects.toMatchObject({
      cause: { type: 'RunbookConflict', message: expect.stringMatching(/claim task swap-disk/) },
    });
    await claim(handle, fran);
    await expect(claim(handle, { ...fran, id: 'fred', displayName: 'Fred' })).rejects.toMatchObject({ cause: { type: 'RunbookConflict' } });
    const refused = await complete(handle, fran, { removedSerial: 'WD-OLD-1234', installedSerial: 'x', extra: 1 }).then(
      () => undefined,
      (e: { cause: { type: string; details: unknown[] } }) => e.cause,
    );
    expect(refused?.type).toBe('RunbookInvalid');
    expect(refused?.details[0]).toEqual({
      issues: expect.arrayContaining([
        { path: 'evidence.installedSerial', message: expect.stringMatching(/^must match/) },
        { path: 'evidence.rebuildStarted', message: 'is required' },
        { path: 'evidence.extra', message: 'is not a field of this form' },
      ]),
    });
    await complete(handle, fran);
    await handle.result();
    expect(acceptedUpdates(await handle.fetchHistory())).toBe(2); // the claim and the completion only
  });

  test('release gives the task back; reassign hands it to another person, who completes it', async () => {
    const handle = await launch();
    await taskWhere(handle, 'task open', (t) => t.state === 'open');
    await claim(handle, fran);
    await expect(
      handle.executeUpdate(releaseTaskUpdate, { args: [{ taskId: 'swap-disk', principal: { ...fran, id: 'fred', displayName: 'Fred' } }] }),
    ).rejects.toMatchObject({ cause: { type: 'RunbookForbidden' } });
    const released = await handle.executeUpdate(releaseTaskUpdate, {
      args: [{ taskId: 'swap-disk', principal: fran, comment: 'no spare disk on site' }],
    });
    expect(released.state).toBe('open');
    expect(released.claimedBy).toBeUndefined();
    const reassigned = await handle.executeUpdate(reassignTaskUpdate, {
      args: [{ taskId: 'swap-disk', principal: fran, to: { id: 'fred', displayName: 'Fred Field' }, comment: 'Fred has the spare' }],
    });
    expect(reassigned).toMatchObject({ state: 'claimed', claimedBy: { id: 'fred' } });
    await expect(complete(handle, fran)).rejects.toMatchObject({
      cause: { type: 'RunbookConflict', message: expect.stringContaining('Fred Field') },
    });
    await complete(handle, { id: 'fred', displayName: 'Fred Field', roles: ['tier1'] });
    const state = (await handle.result()) as RunState;
    expect(state.tasks?.[0].events.map((e) => [e.action, e.by])).toEqual([
      ['claim', 'fran'],
      ['release', 'fran'],
      ['reassign', 'fran'],
      ['complete', 'fred'],
    ]);
  });

  test('each SLA deadline escalates tier1 → tier2 → tier3, notifying each; the report shows how long each tier held it', async () => {
    const handle = await launch({ slaSeconds: 1 });
    const atTier3 = await taskWhere(handle, 'task with tier3', (t) => t.assignedRole === 'tier3');
    expect(atTier3.escalations.map((e) => [e.tier, e.contact])).toEqual([
      [2, 'tier2'],
      [3, 'tier3'],
    ]);
    expect(atTier3.eligibleRoles).toEqual(['tier1', 'tier2', 'tier3']);
    // The state names tier3 as soon as the escalation is decided; its notice is an activity that may
    // still be on its way, so wait for the second notice rather than read the receiver at this instant.
    const notices = await eventually(
      async () => {
        const sent = receiver.received.filter((r) => r.body.runId === handle.workflowId && r.body.kind === 'escalation');
        return sent.length >= 2 ? sent : undefined;
      },
      30_000,
      'two escalation notices',
    );
    expect(notices.map((n) => n.body.recipients)).toEqual([['tier2'], ['tier3']]);
    // The 3rd line is the last: the task stays with it, overdue, until done.
    const overdue = await taskWhere(handle, 'task overdue at tier3', (t) => t.overdue && t.deadline === undefined);
    expect(overdue.escalations).toHaveLength(2);

    await claim(handle, gus); // a tier it passed through may still take it
    await handle.executeUpdate(releaseTaskUpdate, { args: [{ taskId: 'swap-disk', principal: gus }] });
    await claim(handle, hana);
    await complete(handle, hana);
    const state = (await handle.result()) as RunState;
    const task = state.tasks![0];
    expect(task.holds.map((h) => h.role)).toEqual(['tier1', 'tier2', 'tier3']);
    for (const hold of task.holds) expect(Date.parse(hold.until!)).toBeGreaterThanOrEqual(Date.parse(hold.from));
    expect(state.steps.find((s) => s.id === 'swap-disk')?.summary).toBe('done by Hana Third-Line after 2 escalation(s)');
    const report = await fs.readFile(path.join(worker.reportsDir, `${handle.workflowId}.md`), 'utf8');
    expect(report).toMatch(/Escalated to tier2 \(tier 2\) at .*: not done within 1 s by tier1/);
    expect(report).toMatch(/Escalated to tier3 \(tier 3\) at .*: not done within 1 s by tier2/);
    expect(report).toMatch(/Held by tier1 from .* for \d+ s/);
    expect(report).toMatch(/Held by tier3 from .* for \d+ s/);
    expect(report).toContain('(overdue)');
  });

  test('a cancelled run closes its open task as cancelled', async () => {
    const handle = await launch();
    await taskWhere(handle, 'task open', (t) => t.state === 'open');
    await handle.cancel();
    await expect(handle.result()).rejects.toThrow();
    const state = await handle.query(runStateQuery);
    expect(state.status).toBe('cancelled');
    expect(state.tasks?.[0]).toMatchObject({ state: 'cancelled', closedAt: expect.any(String) });
    expect(state.steps.find((s) => s.id === 'swap-disk')).toMatchObject({ state: 'skipped', error: 'cancelled' });
  });
});
