import type { Client, Connection } from '@temporalio/client';
import request from 'supertest';
import { testClient } from '../harness/worker';
import { auth, restoreInput, startTestApi, type TestApi } from './app';

/** No worker polls this API's task queue: runs start, but nothing answers their queries or updates. */
const UPDATE_TIMEOUT_MS = 1_500;
let api: TestApi;
let temporal: { client: Client; connection: Connection };
let runId: string;

beforeAll(async () => {
  [api, temporal] = await Promise.all([startTestApi({ updateTimeoutMs: UPDATE_TIMEOUT_MS }), testClient()]);
  const res = await request(api.server)
    .post('/v1/runs')
    .set(auth('tess'))
    .send({ runbook: 'data-restore', input: restoreInput() })
    .expect(201);
  runId = res.body.runId;
});
afterAll(async () => {
  await temporal?.client.workflow
    .getHandle(runId)
    .terminate('test done')
    .catch(() => undefined);
  await api?.app.close();
  await temporal?.connection.close();
});

/** Sends the request and checks it is a 503 naming the worker, answered within the timeout (plus slack). */
async function expectWorkerNotAnswering(req: request.Test): Promise<void> {
  const started = Date.now();
  const res = await req.expect(503);
  const elapsed = Date.now() - started;
  expect(elapsed).toBeGreaterThanOrEqual(UPDATE_TIMEOUT_MS - 100);
  expect(elapsed).toBeLessThan(UPDATE_TIMEOUT_MS + 2_500);
  expect(res.body).toMatchObject({
    statusCode: 503,
    error: 'Service Unavailable',
    message: expect.stringMatching(/worker is not answering/),
  });
  expect(res.headers['retry-after']).toBeDefined();
}

describe('with no worker on the task queue', () => {
  it('answers GET /v1/runs/:id (a query) with 503 within the timeout', async () => {
    await expectWorkerNotAnswering(request(api.server).get(`/v1/runs/${runId}`).set(auth('tess')));
  });

  it('answers GET /v1/runs/:id/report with 503 within the timeout', async () => {
    await expectWorkerNotAnswering(request(api.server).get(`/v1/runs/${runId}/report`).set(auth('tess')));
  });

  it('answers an approval decision (an update) with 503 within the timeout', async () => {
    await expectWorkerNotAnswering(
      request(api.server).post(`/v1/runs/${runId}/approvals/approve-restore`).set(auth('alex')).send({ decision: 'approve' }),
    );
  });

  it('answers a cancel with 503 and does not cancel the run', async () => {
    await expectWorkerNotAnswering(request(api.server).post(`/v1/runs/${runId}/cancel`).set(auth('tess')).send({ reason: 'wrong folder' }));
    const description = await temporal.client.workflow.getHandle(runId).describe();
    expect(description.status.name).toBe('RUNNING');
  });

  it("answers from the run's status copy with the server's own status: a run terminated from outside shows TERMINATED though its copy says it is waiting", async () => {
    const launched = await request(api.server)
      .post('/v1/runs')
      .set(auth('tess'))
      .send({ runbook: 'data-restore', input: restoreInput() })
      .expect(201);
    const id = launched.body.runId as string;
    // The copy a worker would have written at the run's gate; no worker runs here, so nothing else writes one.
    const copy = { runId: id, runbook: 'data-restore', title: 'Data restore', status: 'awaiting_approval', steps: [], gates: [] };
    await api.store.runStatus.put(id, 'awaiting_approval', '1', JSON.stringify(copy));
    const waiting = await request(api.server).get(`/v1/runs/${id}`).set(auth('tess')).expect(200);
    expect(waiting.body).toMatchObject({ runId: id, status: 'awaiting_approval', temporalStatus: 'RUNNING' });
    expect(waiting.body.inputSha256).toMatch(/^[0-9a-f]{64}$/);

    await temporal.client.workflow.getHandle(id).terminate('terminated from outside the API');
    const terminated = await request(api.server).get(`/v1/runs/${id}`).set(auth('tess')).expect(200);
    expect(terminated.body).toMatchObject({ runId: id, status: 'awaiting_approval', temporalStatus: 'TERMINATED' });
  });

  it('still answers 404 for a run that does not exist, without waiting for a worker', async () => {
    const res = await request(api.server).get('/v1/runs/data-restore-does-not-exist').set(auth('tess')).expect(404);
    expect(res.body.message).toContain('data-restore-does-not-exist');
  });
});
