import { RunbookMetrics } from '@runbooks/activities';
import type { RunState, TaskRecord } from '@runbooks/contracts';
import request from 'supertest';
import { WebhookReceiver } from '../harness/webhook-receiver';
import { eventually, startTestWorker, type TestWorker } from '../harness/worker';
import { auth, startTestApi, type TestApi } from './app';

let api: TestApi;
let worker: TestWorker;
let receiver: WebhookReceiver;
const workerMetrics = new RunbookMetrics({ processMetrics: false });

beforeAll(async () => {
  receiver = new WebhookReceiver();
  const webhookUrl = await receiver.start();
  api = await startTestApi();
  worker = await startTestWorker({ taskQueue: api.taskQueue, webhookUrl, observability: { metrics: workerMetrics } });
});
afterAll(async () => {
  await api?.app.close();
  await worker?.stop();
  await receiver?.stop();
});

type Who = Parameters<typeof auth>[0];
const server = () => api.server;
const evidence = { removedSerial: 'SEA-OLD-0001', installedSerial: 'SEA-NEW-0002', rebuildStarted: true };

async function launch(slaSeconds: number): Promise<string> {
  const res = await request(server())
    .post('/v1/runs')
    .set(auth('tess'))
    .send({ runbook: 'disk-replacement', input: { host: 'db-07', slot: 'bay 3', notify: ['dba-team'], slaSeconds } })
    .expect(201);
  return res.body.runId;
}

async function tasks(
  who: Who,
  query = '',
): Promise<(TaskRecord & { runId: string; taskId: string; evidenceForm: Record<string, unknown> })[]> {
  const res = await request(server()).get(`/v1/tasks${query}`).set(auth(who)).expect(200);
  return res.body.tasks;
}

const act = (who: Who, runId: string, action: string, body: Record<string, unknown> = {}) =>
  request(server()).post(`/v1/runs/${runId}/tasks/swap-disk/${action}`).set(auth(who)).send(body);

async function finished(runId: string): Promise<RunState> {
  return eventually(
    async () => {
      const res = await request(server()).get(`/v1/runs/${runId}`).set(auth('tess')).expect(200);
      return res.body.temporalStatus === 'COMPLETED' ? (res.body as RunState) : undefined;
    },
    30_000,
    `${runId} to complete`,
  );
}

describe('human tasks through the API', () => {
  it('lists the task with its instructions and evidence form for its tier; claim and complete check role, claim and evidence', async () => {
    const runId = await launch(600);
    const listed = await eventually(
      async () => (await tasks('fran', '?myRoles=true')).find((t) => t.runId === runId),
      20_000,
      'the task in /v1/tasks',
    );
    expect(listed).toMatchObject({
      taskId: 'swap-disk',
      runbook: 'disk-replacement',
      state: 'open',
      assignedRole: 'tier1',
      overdue: false,
      instructions: expect.stringContaining('bay 3'),
      evidenceForm: { type: 'object', properties: { installedSerial: expect.objectContaining({ type: 'string' }) } },
    });
    expect((await tasks('alex', '?myRoles=true')).map((t) => t.runId)).not.toContain(runId);
    expect((await tasks('alex')).map((t) => t.runId)).toContain(runId); // without the filter every open task shows

    const forbidden = await act('alex', runId, 'claim').expect(403);
    expect(forbidden.body.message).toMatch(/needs one of the roles: tier1/);
    expect((await act('fran', runId, 'complete', { evidence }).expect(409)).body.message).toMatch(/claim task swap-disk/);
    await act('fran', runId, 'claim').expect(200);
    expect((await act('gus', runId, 'claim').expect(403)).body.message).toMatch(/tier1/);
    expect((await tasks('fran', '?mine=true&state=claimed')).map((t) => t.runId)).toContain(runId);

    const invalid = await act('fran', runId, 'complete', { evidence: { ...evidence, installedSerial: 'no' } }).expect(400);
    expect(invalid.body.issues).toEqual([{ path: 'evidence.installedSerial', message: expect.stringMatching(/^must match/) }]);
    await act('fran', runId, 'complete', { evidence: { ...evidence }, unknown: 1 }).expect(400); // unknown body fields refused

    const done = await act('fran', runId, 'complete', { evidence, comment: 'rebuild at 3%' }).expect(200);
    expect(done.body).toMatchObject({ state: 'done', evidence, completedBy: { id: 'fran' } });
    const state = await finished(runId);
    expect(state.status).toBe('succeeded');
    const report = await request(server()).get(`/v1/runs/${runId}/report`).set(auth('tess')).expect(200);
    expect(report.text).toContain('- Evidence **removedSerial:** SEA-OLD-0001');
    await act('fran', runId, 'release').expect(409); // the run has ended
  });

  it('escalates through the tiers at each SLA deadline: overdue filter, the 3rd line completes, the report shows each tier’s hold', async () => {
    const runId = await launch(1);
    const atTier3 = await eventually(
      async () => (await tasks('hana', '?overdue=true&myRoles=true')).find((t) => t.runId === runId && t.assignedRole === 'tier3'),
      30_000,
      'the task to reach the 3rd line',
    );
    expect(atTier3.escalations.map((e) => e.contact)).toEqual(['tier2', 'tier3']);
    expect((await tasks('fran', '?overdue=false')).map((t) => t.runId)).not.toContain(runId);
    const notified = receiver.received.filter((r) => r.body.runId === runId && r.body.kind === 'escalation').map((r) => r.body.recipients);
    expect(notified).toEqual([['tier2'], ['tier3']]);
    // Each deadline passed is an SLA breach, by the tier the task went to (the only task of this file that escalates).
    const breaches = async (tier: string) =>
      (await workerMetrics.registry.getSingleMetric('runbooks_sla_breaches_total')?.get())?.values.find(
        (v) => v.labels.runbook === 'disk-replacement' && v.labels.kind === 'task' && v.labels.tier === tier,
      )?.value ?? 0;
    expect(await breaches('2')).toBe(1);
    expect(await breaches('3')).toBe(1);

    await act('hana', runId, 'claim').expect(200);
    await act('hana', runId, 'complete', { evidence }).expect(200);
    await finished(runId);
    const report = await request(server()).get(`/v1/runs/${runId}/report`).set(auth('tess')).expect(200);
    expect(report.text).toMatch(/Escalated to tier2 \(tier 2\)/);
    expect(report.text).toMatch(/Escalated to tier3 \(tier 3\)/);
    for (const tier of ['tier1', 'tier2', 'tier3']) expect(report.text).toMatch(new RegExp(`Held by ${tier} from \\S+ for \\d+ s`));
  });

  it('refuses an unknown filter and a task id that is not one', async () => {
    const res = await request(server()).get('/v1/tasks?assignee=me').set(auth('fran')).expect(400);
    expect(res.body.message).toContain('assignee');
    await request(server()).post('/v1/runs/x/tasks/%20bad/claim').set(auth('fran')).send({}).expect(400);
  });
});
