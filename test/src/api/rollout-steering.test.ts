import { RejectionType, pauseRolloutUpdate, type RolloutState, type RunState } from '@runbooks/contracts';
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { createLabFleet, type LabFleetFixture } from '../../../apps/worker/src/demo/lab-fixture';
import { eventually, startTestWorker, testClient, type TestWorker } from '../harness/worker';
import { auth, startTestApi, type TestApi } from './app';
import { startRestoreEnvironment, type RestoreEnvironment } from './restore-environment';

type Who = Parameters<typeof auth>[0];

/** Every steering endpoint with a valid body. */
const STEERING: { action: string; body: Record<string, unknown> }[] = [
  { action: 'pause', body: { reason: 'change freeze' } },
  { action: 'resume', body: {} },
  { action: 'concurrency', body: { concurrency: 5 } },
  { action: 'skip', body: { host: 'web-1', reason: 'database primary' } },
  { action: 'abort', body: { reason: 'vendor pulled the patch' } },
];

function steer(server: TestApi['server'], runId: string, action: string, who: Who, body: Record<string, unknown>) {
  return request(server).post(`/v1/runs/${runId}/rollout/${action}`).set(auth(who)).send(body);
}

describe('steering a run that is not a running fleet rollout', () => {
  let env: RestoreEnvironment;

  beforeAll(async () => {
    env = await startRestoreEnvironment();
  });
  afterAll(async () => {
    await env?.stop();
  });

  it('answers 404 for a run that does not exist, on every steering endpoint', async () => {
    for (const { action, body } of STEERING) {
      const res = await steer(env.api.server, 'security-patching-never-launched', action, 'tess', body).expect(404);
      expect(res.body).toMatchObject({ statusCode: 404, message: 'run security-patching-never-launched not found' });
    }
  });

  it('refuses principals without the technician role with 403 before anything reaches the run', async () => {
    for (const who of ['alex', 'sam'] as const) {
      for (const { action, body } of STEERING) {
        const res = await steer(env.api.server, 'security-patching-never-launched', action, who, body).expect(403);
        expect(res.body.message).toMatch(new RegExp(`^${who} may not .*needs the role technician or admin`));
      }
    }
    await request(env.api.server).post('/v1/runs/x/rollout/pause').send({}).expect(401);
  });

  it('validates each body: concurrency 1..200, abort needs a reason, skip needs a host, no unknown fields', async () => {
    const bad = async (action: string, body: Record<string, unknown>, field: string) => {
      const res = await steer(env.api.server, 'security-patching-x', action, 'tess', body).expect(400);
      expect(res.body.issues.map((i: { path: string }) => i.path)).toEqual([field]);
    };
    await bad('concurrency', { concurrency: 0 }, 'concurrency');
    await bad('concurrency', { concurrency: 201 }, 'concurrency');
    await bad('concurrency', { concurrency: 2.5 }, 'concurrency');
    await bad('abort', {}, 'reason');
    await bad('abort', { reason: 'x', rollback: 'yes' }, 'rollback');
    await bad('skip', { reason: 'x' }, 'host');
    await bad('pause', { reason: 'x'.repeat(501) }, 'reason');
    await bad('pause', { principal: { id: 'ada', displayName: 'Ada', roles: ['admin'] } }, 'principal'); // an unknown field is named
  });

  it('is documented in the OpenAPI document with the bodies the API enforces', async () => {
    const { body } = await request(env.api.server).get('/openapi.json').expect(200);
    for (const { action } of STEERING) {
      const op = body.paths[`/v1/runs/{id}/rollout/${action}`].post;
      expect(op).toMatchObject({ tags: ['rollouts'], 'x-access': { anyRole: ['technician'] } });
      expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['200', '400', '403', '404', '409', '503']));
    }
    const abort = body.paths['/v1/runs/{id}/rollout/abort'].post.requestBody.content['application/json'].schema;
    expect(abort).toMatchObject({ required: ['reason'], properties: { rollback: { type: 'boolean', default: true } } });
    const concurrency = body.paths['/v1/runs/{id}/rollout/concurrency'].post.requestBody.content['application/json'].schema;
    expect(concurrency.properties.concurrency).toMatchObject({ minimum: 1, maximum: 200 });
  });

  it('answers 409 "not a fleet rollout" for a running data-restore run, and leaves the run as it was', async () => {
    const runId = await env.launchToApproval('tess');
    for (const { action, body } of STEERING) {
      const res = await steer(env.api.server, runId, action, 'tess', body).expect(409);
      expect(res.body).toEqual({ statusCode: 409, error: 'Conflict', message: `run ${runId} is not a fleet rollout` });
    }
    const state = await request(env.api.server).get(`/v1/runs/${runId}`).set(auth('tess')).expect(200);
    expect(state.body).toMatchObject({ status: 'awaiting_approval', temporalStatus: 'RUNNING' });
    expect(state.body.rollout).toBeUndefined();

    // Once the run has ended it is a conflict too, never a 404 or 500.
    const handle = env.temporal.client.workflow.getHandle(runId);
    await handle.terminate('test done');
    const ended = await steer(env.api.server, runId, 'pause', 'tess', {}).expect(409);
    expect(ended.body.message).toMatch(/has already ended/);
  });
});

describe('steering a live security-patching rollout over a lab fleet', () => {
  const OLD = { openssl: '3.0.11', 'linux-image': '6.1.0-25' };
  let root: string;
  let api: TestApi;
  let worker: TestWorker;
  let lab: LabFleetFixture;
  let temporal: Awaited<ReturnType<typeof testClient>>;

  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'api-rollout-'));
    lab = await createLabFleet({ dir: path.join(root, randomUUID()), canary: 1, production: 4, packages: OLD });
    // Steering is signed by the API and verified by the run, as in production; the API and the worker
    // share the store, as every deployment does: the hosts' records are there.
    const assertionKeys = `k1:${randomBytes(32).toString('base64')}`;
    api = await startTestApi({ assertionKeys, store: lab.storeLocation });
    [worker, temporal] = await Promise.all([
      startTestWorker({ taskQueue: api.taskQueue, hosts: lab, store: lab.store, assertions: { keys: assertionKeys, maxAgeMs: 60_000 } }),
      testClient(),
    ]);
  });
  afterAll(async () => {
    await api?.app.close();
    await worker?.stop();
    await temporal?.connection.close();
    await fs.rm(root, { recursive: true, force: true });
  });

  const getRun = async (runId: string): Promise<RunState> =>
    (await request(api.server).get(`/v1/runs/${runId}`).set(auth('sam')).expect(200)).body as RunState;

  const ok = async (runId: string, action: string, who: Who, body: Record<string, unknown>): Promise<RolloutState> =>
    (await steer(api.server, runId, action, who, body).expect(200)).body as RolloutState;

  it('pauses, skips, sets concurrency, resumes and aborts through the API; the run records who did each', async () => {
    // The first production host hangs until its timeout, so the rollout is still busy when it is aborted.
    await lab.fleet.setFaults(lab.production[0], { hang: true });
    const launched = await request(api.server)
      .post('/v1/runs')
      .set(auth('tess'))
      .send({
        runbook: 'security-patching',
        input: {
          targets: { tags: ['lab'] },
          patches: [{ package: 'openssl', version: '3.0.15' }],
          waves: ['rest'],
          concurrency: 3,
          bakeSeconds: 0,
          hostTimeoutSeconds: 5,
          failureThreshold: { count: 5 },
          approval: { timeoutSeconds: 600 },
        },
      })
      .expect(201);
    const runId: string = launched.body.runId;
    await eventually(
      async () => ((await getRun(runId)).gates.some((g) => g.id === 'approve-production' && g.state === 'pending') ? true : undefined),
      60_000,
      'the canary to pass and the production gate to open',
    );

    const paused = await ok(runId, 'pause', 'tess', { reason: 'change freeze call at 10:00' });
    expect(paused.paused).toBe(true);
    expect(paused.operatorActions).toEqual([
      { action: 'pause', by: 'tess', at: expect.any(String), detail: 'change freeze call at 10:00' },
    ]);
    await request(api.server)
      .post(`/v1/runs/${runId}/approvals/approve-production`)
      .set(auth('alex'))
      .send({ decision: 'approve' })
      .expect(200);
    await new Promise((r) => setTimeout(r, 1_500));

    // Approved, but paused: GET shows it, and no production host was touched.
    const whilePaused = await getRun(runId);
    expect(whilePaused.rollout).toMatchObject({
      paused: true,
      operatorActions: [{ action: 'pause', by: 'tess', detail: 'change freeze call at 10:00' }],
    });
    expect(whilePaused.rollout!.waves.filter((w) => w.index > 0).map((w) => w.counts?.pending)).toEqual([lab.production.length]);
    expect((await lab.fleet.ledger()).filter((e) => e.op === 'patch').map((e) => e.host)).toEqual(lab.canary);
    // History names the operator as the caller of the update.
    const history = await temporal.client.workflow.getHandle(runId).fetchHistory();
    const identities = history.events!.flatMap((e) => {
      const accepted = e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest;
      return accepted?.input?.name === 'pauseRollout' ? [accepted.meta?.identity] : [];
    });
    expect(identities).toEqual(['api:tess']);

    // Steering sent around the API, whoever it claims to come from, is refused before it enters history.
    const forged = await temporal.client.workflow
      .getHandle(runId)
      .executeUpdate(pauseRolloutUpdate, {
        args: [{ principal: { id: 'ada', displayName: 'Ada Admin', roles: ['admin'] }, reason: 'forged' }],
      })
      .then(
        () => undefined,
        (error: { cause?: unknown }) => error.cause,
      );
    expect(forged).toMatchObject({ type: RejectionType.forbidden, message: expect.stringMatching(/carries no signed assertion/) });
    const after = await temporal.client.workflow.getHandle(runId).fetchHistory();
    expect(
      after.events!.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name === 'pauseRollout'),
    ).toHaveLength(1);

    // The run's validators answer through the API: unknown host 404, a host already patched 409.
    const unknown = await steer(api.server, runId, 'skip', 'tess', { host: 'not-in-this-rollout' }).expect(404);
    expect(unknown.body.message).toMatch(/not part of this rollout/);
    const done = await steer(api.server, runId, 'skip', 'tess', { host: lab.canary[0] }).expect(409);
    expect(done.body.message).toMatch(/already patched/);

    const skipped = await ok(runId, 'skip', 'tess', { host: lab.production[1], reason: 'database primary' });
    expect(skipped.skipped).toEqual([lab.production[1]]);
    // Skipping it again is a conflict, and it is listed once.
    const again = await steer(api.server, runId, 'skip', 'tess', { host: lab.production[1] }).expect(409);
    expect(again.body.message).toMatch(/already skipped/);
    expect((await ok(runId, 'concurrency', 'blair', { concurrency: 1 })).concurrency).toBe(1);
    const resumed = await ok(runId, 'resume', 'ada', {});
    expect(resumed.paused).toBe(false);
    expect(resumed.operatorActions.at(-1)).toMatchObject({ action: 'resume', by: 'ada', detail: 'resumed' });
    // Abort once the batch is at work on the hanging host (its snapshot is taken just before the patch).
    await eventually(
      async () => ((await lab.fleet.ledger()).some((e) => e.op === 'snapshot' && e.host === lab.production[0]) ? true : undefined),
      30_000,
      'the first production host to be started',
    );

    const aborted = await ok(runId, 'abort', 'tess', { reason: 'vendor pulled the patch' });
    expect(aborted.stopReason).toBe('aborted by tess: vendor pulled the patch');
    expect(aborted.operatorActions.at(-1)).toMatchObject({
      action: 'abort',
      by: 'tess',
      detail: 'vendor pulled the patch (rolling back changed hosts)',
    });
    // The rollout is over: further steering is a conflict.
    const over = await steer(api.server, runId, 'pause', 'tess', {}).expect(409);
    expect(over.body.message).toMatch(/the rollout is over/);

    const ended = await eventually(
      async () => {
        const state = await request(api.server).get(`/v1/runs/${runId}`).set(auth('sam')).expect(200);
        return state.body.temporalStatus === 'RUNNING' ? undefined : (state.body as RunState);
      },
      60_000,
      'the aborted run to end',
    );
    expect(ended).toMatchObject({ status: 'cancelled', cancellation: { by: 'tess', reason: 'vendor pulled the patch' } });
    expect(ended.rollout!.operatorActions.map((a) => [a.action, a.by])).toEqual([
      ['pause', 'tess'],
      ['skip-host', 'tess'],
      ['set-concurrency', 'blair'],
      ['resume', 'ada'],
      ['abort', 'tess'],
    ]);
    // Rolled back (the default): the canary is on its old packages again; the hosts after the stop never started.
    expect((await lab.fleet.readHost(lab.canary[0])).packages).toEqual(OLD);
    const patched = new Set((await lab.fleet.ledger()).filter((e) => e.op === 'patch').map((e) => e.host));
    for (const host of lab.production.slice(1)) expect(patched.has(host)).toBe(false);
    await steer(api.server, runId, 'resume', 'tess', {}).expect(409);
  });
});
