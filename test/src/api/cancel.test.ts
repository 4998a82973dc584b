import request from 'supertest';
import { eventually } from '../harness/worker';
import { auth } from './app';
import { startRestoreEnvironment, type RestoreEnvironment } from './restore-environment';

let env: RestoreEnvironment;

beforeAll(async () => {
  env = await startRestoreEnvironment();
});
afterAll(async () => {
  await env?.stop();
});

describe('POST /v1/runs/:id/cancel', () => {
  it('records who cancelled and why (202), then the run ends cancelled and leaves the approvals list', async () => {
    const runId = await env.launchToApproval('tess');
    const res = await request(env.api.server)
      .post(`/v1/runs/${runId}/cancel`)
      .set(auth('tess'))
      .send({ reason: 'wrong folder' })
      .expect(202);
    expect(res.body).toMatchObject({ runId, cancellation: { by: 'tess', reason: 'wrong folder', at: expect.any(String) } });

    const ended = await eventually(
      async () => {
        const state = await request(env.api.server).get(`/v1/runs/${runId}`).set(auth('alex')).expect(200);
        return state.body.temporalStatus === 'RUNNING' ? undefined : state.body;
      },
      30_000,
      'the run to end',
    );
    expect(ended).toMatchObject({ status: 'cancelled', temporalStatus: 'CANCELLED', cancellation: { by: 'tess' } });
    expect(ended.gates[0].state).toBe('cancelled');
    const approvals = await request(env.api.server).get('/v1/approvals').set(auth('alex')).expect(200);
    expect(approvals.body.approvals.map((a: { runId: string }) => a.runId)).not.toContain(runId);

    const history = await env.temporal.client.workflow.getHandle(runId).fetchHistory();
    const cancelRequest = history.events!.find((e) => e.workflowExecutionCancelRequestedEventAttributes)!;
    expect(cancelRequest.workflowExecutionCancelRequestedEventAttributes!.identity).toBe('api:tess');
  });

  it('answers 409 to a cancel of a run that has already ended', async () => {
    const runId = await env.launchToApproval('tess');
    await request(env.api.server).post(`/v1/runs/${runId}/cancel`).set(auth('ada')).send({ reason: 'duplicate request' }).expect(202);
    await env.temporal.client.workflow
      .getHandle(runId)
      .result()
      .catch(() => undefined);
    const res = await request(env.api.server).post(`/v1/runs/${runId}/cancel`).set(auth('tess')).send({ reason: 'again' }).expect(409);
    expect(res.body).toMatchObject({ statusCode: 409, error: 'Conflict' });
  });

  it('answers 404 to a cancel of a run that does not exist', async () => {
    await request(env.api.server).post('/v1/runs/data-restore-never-launched/cancel').set(auth('tess')).send({ reason: 'x' }).expect(404);
  });
});
