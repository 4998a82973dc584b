import type { Principal, RunState } from '@runbooks/contracts';
import { PRE_APPROVAL_ASSERTION, parseAssertionKeys, preApprovalSignedArgs, runStateQuery, signAssertion } from '@runbooks/contracts';
import { PreApprovalStore } from '@runbooks/activities';
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
/** API and worker share them: approvals given ahead are signed and verified as in production. */
const assertionKeys = `k1:${randomBytes(32).toString('base64')}`;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pre-approvals-api-'));
  lab = await createLabFleet({ dir, canary: 1, production: 2, packages: { openssl: '3.0.11' } });
  api = await startTestApi({ store: lab.storeLocation, assertionKeys });
  [worker, temporal] = await Promise.all([
    startTestWorker({ taskQueue: api.taskQueue, hosts: lab, store: lab.store, assertions: { keys: assertionKeys, maxAgeMs: 60_000 } }),
    testClient(),
  ]);
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

/** The run's state once it waits at its first gate (no approval given ahead counted). */
async function waitingAtGate(runId: string): Promise<RunState> {
  const handle = temporal.client.workflow.getHandle(runId);
  return eventually(
    async () => {
      const s = await handle.query(runStateQuery);
      return s.gates[0]?.state === 'pending' ? s : undefined;
    },
    60_000,
    'the run waiting at its gate',
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
  const state = await waitingAtGate(await triggeredRun(id));
  expect(state.gates[0].decisions).toEqual([]);
  expect(state.gates[0].notes?.[0]).toContain('void: the schedule input changed after it was given');
});

test("an approval given ahead that the API did not sign, or signed for someone without the gate's role, does not count", async () => {
  const id = await createWeeklyPatchSchedule();
  // One through the API for a later fire time (not this run's): it tells the input hash approvals bind to.
  const later = await request(api.server)
    .post(`/v1/schedules/${id}/pre-approvals`)
    .set(auth('alex'))
    .send({ gateId: 'approve-production', fireTime: '2030-01-06T00:00:00Z' })
    .expect(201);
  expect(later.body).not.toHaveProperty('assertion'); // the signature is for the workers only
  const inputSha256: string = later.body.inputSha256;
  const store = new PreApprovalStore(lab.store);
  // Written straight into the store, as anyone with database access could, in Blair's name.
  await store.add({ scheduleId: id, gateId: 'approve-production', inputSha256, comment: 'forged', by: 'blair', displayName: 'Blair' });
  // Signed with the API's key, but for a technician, who may not decide this gate.
  const tess: Principal = { id: 'tess', displayName: 'Tess Technician', roles: ['technician'] };
  const given = { scheduleId: id, gateId: 'approve-production', inputSha256, comment: 'not an approver' };
  const [key] = parseAssertionKeys(assertionKeys);
  const assertion = signAssertion(key, PRE_APPROVAL_ASSERTION, tess, { ...preApprovalSignedArgs(given), principal: tess }, new Date());
  await store.add({ ...given, by: 'tess', displayName: 'Tess Technician', assertion });

  const state = await waitingAtGate(await triggeredRun(id));
  expect(state.gates[0].decisions).toEqual([]);
  expect(state.gates[0].notes).toEqual(
    expect.arrayContaining([
      expect.stringMatching(/^approval given ahead by Blair .* is void: it is not vouched for by the API: .*no signed assertion/),
      expect.stringMatching(/^approval given ahead by Tess Technician .* is void: tess does not hold approver$/),
    ]),
  );
});
