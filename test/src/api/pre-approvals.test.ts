import type { RunState } from '@runbooks/contracts';
import { runStateQuery } from '@runbooks/contracts';
import type { Client, Connection } from '@temporalio/client';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { createLabFleet, type LabFleetFixture } from '../../../apps/worker/src/demo/lab-fixture';
import { eventually, startTestWorker, testClient, type TestWorker } from '../harness/worker';
import { auth, startTestApi, type TestApi } from './app';

let dir: string;
let lab: LabFleetFixture;
let api: TestApi;
let worker: TestWorker;
let temporal: { client: Client; connection: Connection };
const schedules: string[] = [];

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pre-approvals-api-'));
  lab = await createLabFleet({ dir, canary: 1, production: 2, packages: { openssl: '3.0.11' } });
  api = await startTestApi({ store: lab.storeLocation });
  [worker, temporal] = await Promise.all([startTestWorker({ taskQueue: api.taskQueue, hosts: lab, store: lab.store }), testClient()]);
});

afterAll(async () => {
  for (const id of schedules) {
    await temporal.client.schedule
      .getHandle(id)
      .delete()
      .catch(() => undefined);
    for await (const run of temporal.client.workflow.list({ query: `ScheduleId = '${id}' AND ExecutionStatus = 'Running'` })) {
      await temporal.client.workflow
        .getHandle(run.workflowId)
        .terminate('test done')
        .catch(() => undefined);
    }
  }
  await worker?.stop();
  await api?.app.close();
  await temporal?.connection.close();
  await fs.rm(dir, { recursive: true, force: true });
});

async function createWeeklyPatchSchedule(concurrency = 2): Promise<string> {
  const id = `weekly-lab-patch-${randomBytes(4).toString('hex')}`;
  schedules.push(id);
  await request(api.server)
    .post('/v1/schedules')
    .set(auth('sam'))
    .send({
      id,
      runbook: 'security-patching',
      input: {
        targets: { tags: ['lab'] },
        patches: [{ package: 'openssl', version: '3.0.15' }],
        waves: ['rest'],
        bakeSeconds: 0,
        concurrency,
      },
      spec: { cron: ['0 1 * * 0'], timezone: 'Europe/Berlin' },
    })
    .expect(201);
  return id;
}

async function triggeredRun(id: string): Promise<string> {
  await request(api.server).post(`/v1/schedules/${id}/trigger`).set(auth('sam')).send({}).expect(202);
  return eventually(
    async () => {
      for await (const run of temporal.client.workflow.list({ query: `ScheduleId = '${id}'` })) return run.workflowId;
      return undefined;
    },
    30_000,
    'the triggered run',
  );
}

test('an approval given ahead is used by the triggered run, recorded with who and when', async () => {
  const id = await createWeeklyPatchSchedule();
  // Sam set the schedule's input: the runs are his requests, he cannot approve them ahead.
  await request(api.server).post(`/v1/schedules/${id}/pre-approvals`).set(auth('sam')).send({ gateId: 'approve-production' }).expect(403);
  const wrongGate = await request(api.server)
    .post(`/v1/schedules/${id}/pre-approvals`)
    .set(auth('alex'))
    .send({ gateId: 'restore' })
    .expect(400);
  expect(wrongGate.body.issues[0].path).toBe('gateId');
  const given = await request(api.server)
    .post(`/v1/schedules/${id}/pre-approvals`)
    .set(auth('alex'))
    .send({ gateId: 'approve-production', comment: 'standing approval for Sunday' })
    .expect(201);

  const runId = await triggeredRun(id);
  const state = (await temporal.client.workflow.getHandle(runId).result()) as RunState;
  expect(state.status).toBe('succeeded');
  expect(state.gates[0].decisions).toEqual([
    expect.objectContaining({
      by: 'alex',
      decision: 'approve',
      at: given.body.at,
      comment: `approved ahead at ${given.body.at}: standing approval for Sunday`,
    }),
  ]);
  expect(state.schedule).toEqual({ id, fireTime: expect.any(String) });
  const report = await request(api.server).get(`/v1/runs/${runId}/report`).set(auth('tess')).expect(200);
  expect(report.text).toContain(`- **Started by schedule:** ${id} (fire time `);
  const listed = await request(api.server).get(`/v1/schedules/${id}/pre-approvals`).set(auth('tess')).expect(200);
  expect(listed.body.preApprovals[0]).toMatchObject({ by: 'alex', consumedBy: runId });
});

test("changing the schedule's input voids an approval given before, and the run waits for an approver", async () => {
  const id = await createWeeklyPatchSchedule();
  await request(api.server).post(`/v1/schedules/${id}/pre-approvals`).set(auth('alex')).send({ gateId: 'approve-production' }).expect(201);
  await request(api.server)
    .patch(`/v1/schedules/${id}`)
    .set(auth('ada'))
    .send({ input: { targets: { tags: ['lab'] }, patches: [{ package: 'openssl', version: '3.0.16' }], waves: ['rest'], bakeSeconds: 0 } })
    .expect(200);
  const runId = await triggeredRun(id);
  const handle = temporal.client.workflow.getHandle(runId);
  const state = await eventually(
    async () => {
      const s = await handle.query(runStateQuery);
      return s.gates[0]?.state === 'pending' ? s : undefined;
    },
    30_000,
    'the run waiting at its gate',
  );
  expect(state.gates[0].decisions).toEqual([]);
  expect(state.gates[0].notes?.[0]).toContain('void: the schedule input changed after it was given');
});
