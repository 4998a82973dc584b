import { AwaitingApprovalAttr, RUN_MEMO, RequestedByAttr, RunStatusAttr, RunbookNameAttr } from '@runbooks/contracts';
import type { Client, Connection } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { eventually, payloadValue, testClient } from '../harness/worker';
import { auth, restoreInput, startTestApi, type TestApi } from './app';

let api: TestApi;
let temporal: { client: Client; connection: Connection };
const started: string[] = [];

beforeAll(async () => {
  [api, temporal] = await Promise.all([startTestApi(), testClient()]);
});
afterAll(async () => {
  // No worker serves this task queue: end the runs so they do not linger in the dev server.
  await Promise.all(
    started.map((id) =>
      temporal.client.workflow
        .getHandle(id)
        .terminate('test done')
        .catch(() => undefined),
    ),
  );
  await api?.app.close();
  await temporal?.connection.close();
});

function launch(body: Record<string, unknown>, who: 'tess' | 'blair' | 'ada' = 'tess') {
  return request(api.server)
    .post('/v1/runs')
    .set(auth(who))
    .send(body)
    .expect((res) => {
      if (res.body?.runId) started.push(res.body.runId);
    });
}

describe('POST /v1/runs', () => {
  it('answers 201 and starts the runbook workflow in Temporal, attributed to the caller', async () => {
    const res = await launch({ runbook: 'data-restore', input: restoreInput() }).expect(201);
    const { runId } = res.body;
    expect(res.body).toEqual({
      runId,
      runbook: 'data-restore',
      status: 'running',
      links: { self: `/v1/runs/${runId}`, report: `/v1/runs/${runId}/report` },
    });
    expect(runId).toMatch(/^data-restore-[0-9a-f-]{36}$/);
    expect(res.headers.location).toBe(`/v1/runs/${runId}`);

    const description = await temporal.client.workflow.getHandle(runId).describe();
    expect(description.type).toBe('dataRestore');
    expect(description.taskQueue).toBe(api.taskQueue);
    expect(description.status.name).toBe('RUNNING');
    expect(description.typedSearchAttributes.get(RunbookNameAttr)).toBe('data-restore');
    expect(description.typedSearchAttributes.get(RequestedByAttr)).toBe('tess');
    expect(description.typedSearchAttributes.get(RunStatusAttr)).toBe('running');
    expect(description.typedSearchAttributes.get(AwaitingApprovalAttr)).toBe(false);
    expect(description.memo?.[RUN_MEMO.inputSha256]).toMatch(/^[0-9a-f]{64}$/);

    // The start arguments: the parsed input (defaults applied) and who asked; the history names the user.
    const history = await temporal.client.workflow.getHandle(runId).fetchHistory();
    const startEvent = history.events![0].workflowExecutionStartedEventAttributes!;
    expect(startEvent.identity).toBe('api:tess');
    const [args] = startEvent.input!.payloads!.map((p) => payloadValue(p)) as [{ input: Record<string, unknown>; requestedBy: unknown }];
    expect(args.requestedBy).toEqual({ id: 'tess', displayName: 'Tess Technician' });
    expect(args.input).toMatchObject({ ...restoreInput(), approval: { timeoutSeconds: 3600 } });
  });

  it('returns the same run for a retried launch with the same idempotencyKey (200, Idempotent-Replay)', async () => {
    const idempotencyKey = `ticket-INC-1234.${randomUUID()}`;
    const first = await launch({ runbook: 'data-restore', input: restoreInput(), idempotencyKey }).expect(201);
    // Same input with its keys in another order is the same input.
    const reordered = Object.fromEntries(Object.entries(restoreInput()).reverse());
    const retry = await launch({ runbook: 'data-restore', input: reordered, idempotencyKey }).expect(200);
    expect(retry.headers['idempotent-replay']).toBe('true');
    expect(retry.body.runId).toBe(first.body.runId);
    const description = await temporal.client.workflow.getHandle(first.body.runId).describe();
    expect(description.memo?.[RUN_MEMO.idempotencyKey]).toBe(idempotencyKey);
  });

  it('answers 409 when the idempotencyKey was used with a different input', async () => {
    const idempotencyKey = `k-${randomUUID()}`;
    await launch({ runbook: 'data-restore', input: restoreInput(), idempotencyKey }).expect(201);
    const res = await launch({ runbook: 'data-restore', input: restoreInput({ ticket: 'INC-9999' }), idempotencyKey }).expect(409);
    expect(res.body).toMatchObject({ statusCode: 409, message: 'idempotencyKey was already used with a different input' });
  });

  it('still returns the same run for a retry after that run has ended (the key is never reused)', async () => {
    const idempotencyKey = `ended-${randomUUID()}`;
    const first = await launch({ runbook: 'data-restore', input: restoreInput(), idempotencyKey }).expect(201);
    await temporal.client.workflow.getHandle(first.body.runId).terminate('ended for the test');
    const retry = await launch({ runbook: 'data-restore', input: restoreInput(), idempotencyKey }).expect(200);
    expect(retry.body.runId).toBe(first.body.runId);
    expect(retry.headers['idempotent-replay']).toBe('true');
  });

  it('keeps idempotency keys per caller: the same key from another technician starts another run', async () => {
    const idempotencyKey = `shared-${randomUUID()}`;
    const tess = await launch({ runbook: 'data-restore', input: restoreInput(), idempotencyKey }).expect(201);
    const blair = await launch({ runbook: 'data-restore', input: restoreInput(), idempotencyKey }, 'blair').expect(201);
    expect(blair.body.runId).not.toBe(tess.body.runId);
  });
});

describe('GET /v1/runs', () => {
  it('finds a launched run by runbook and requestedBy, and not under another requester', async () => {
    const { body } = await launch({ runbook: 'data-restore', input: restoreInput() }, 'ada').expect(201);
    const listed = await eventually(
      async () => {
        const res = await request(api.server).get('/v1/runs?runbook=data-restore&requestedBy=ada').set(auth('alex')).expect(200);
        return res.body.runs.find((r: { runId: string }) => r.runId === body.runId);
      },
      10_000,
      'the run to show in visibility',
    );
    expect(listed).toMatchObject({
      runId: body.runId,
      runbook: 'data-restore',
      status: 'running',
      requestedBy: 'ada',
      awaitingApproval: false,
      closeTime: null,
      temporalStatus: 'RUNNING',
    });
    expect(Date.parse(listed.startTime)).not.toBeNaN();

    const others = await request(api.server).get('/v1/runs?requestedBy=tess').set(auth('alex')).expect(200);
    expect(others.body.runs.map((r: { runId: string }) => r.runId)).not.toContain(body.runId);
    const waiting = await request(api.server).get('/v1/runs?requestedBy=ada&awaitingApproval=true').set(auth('alex')).expect(200);
    expect(waiting.body.runs).toEqual([]);
    const succeeded = await request(api.server).get('/v1/runs?requestedBy=ada&status=succeeded').set(auth('alex')).expect(200);
    expect(succeeded.body.runs).toEqual([]);
  });

  it('pages with pageSize and nextPageToken without repeating a run', async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 3; i++) ids.add((await launch({ runbook: 'data-restore', input: restoreInput() }, 'blair').expect(201)).body.runId);
    await eventually(
      async () => {
        const res = await request(api.server).get('/v1/runs?requestedBy=blair&pageSize=100').set(auth('tess')).expect(200);
        return [...ids].every((id) => res.body.runs.some((r: { runId: string }) => r.runId === id)) || undefined;
      },
      10_000,
      'the runs to show in visibility',
    );
    const seen: string[] = [];
    let token: string | null = null;
    do {
      const res: request.Response = await request(api.server)
        .get('/v1/runs')
        .query({ requestedBy: 'blair', pageSize: 2, ...(token ? { pageToken: token } : {}) })
        .set(auth('tess'))
        .expect(200);
      expect(res.body.runs.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.runs.map((r: { runId: string }) => r.runId));
      token = res.body.nextPageToken;
    } while (token);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(expect.arrayContaining([...ids]));
  });

  it('answers 400 naming pageToken for a token this listing did not issue, or one from other filters', async () => {
    const res = await request(api.server).get('/v1/runs?pageToken=bm90LWEtdG9rZW4').set(auth('tess')).expect(400);
    expect(res.body.issues.map((i: { path: string }) => i.path)).toEqual(['pageToken']);

    await launch({ runbook: 'data-restore', input: restoreInput() }).expect(201);
    await launch({ runbook: 'data-restore', input: restoreInput() }).expect(201);
    const token = await eventually(
      async () => {
        const page = await request(api.server).get('/v1/runs?pageSize=1').set(auth('tess')).expect(200);
        return page.body.nextPageToken ?? undefined;
      },
      10_000,
      'a second page',
    );
    const other = await request(api.server)
      .get('/v1/runs')
      .query({ pageSize: 1, pageToken: token, requestedBy: 'ada' })
      .set(auth('tess'))
      .expect(400);
    expect(other.body.issues).toEqual([{ path: 'pageToken', message: expect.stringMatching(/other filters/) }]);
  });
});
