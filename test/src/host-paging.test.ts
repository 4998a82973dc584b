import { runStateQuery, runStatusVersion, type Host, type HostRecord, type RunState } from '@runbooks/contracts';
import { InventoryStore, createHostRecordActivities } from '@runbooks/activities';
import type { Store } from '@runbooks/store';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { createLabFleet } from '../../apps/worker/src/demo/lab-fixture';
import type { ApiConfigInput } from '@runbooks/api';
import { auth, startTestApi, type TestApi } from './api/app';
import { STORE_BACKENDS, closeStores, openStore } from './harness/stores';
import { eventually, startTestWorker, testClient } from './harness/worker';

/**
 * Per-host records live in the store, not in the run's state: the status stays the same size
 * whatever the fleet's, a run that stops at its threshold over a large fleet ends with its report,
 * and GET /v1/runs/{id}/hosts pages the records.
 */
const OLD = { openssl: '3.0.11' };
const STATUS_LIMIT_BYTES = 64 * 1024;
/** The fleet sizes compared; LARGE is the one that overflowed the payload limit when its run stopped early. */
const SMALL = 500;
const LARGE = Number(process.env.RUNBOOKS_HOST_PAGING_LARGE ?? 20_000);

let root: string;
let temporal: Awaited<ReturnType<typeof testClient>>;

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'host-paging-'));
  temporal = await testClient();
});
afterAll(async () => {
  await temporal?.connection.close();
  await fs.rm(root, { recursive: true, force: true });
});

/** A lab fleet with an API and a worker sharing its store, as every deployment shares one. */
async function labStack(canary: number, production: number, api: ApiConfigInput = {}) {
  const lab = await createLabFleet({ dir: path.join(root, randomUUID()), canary, production, packages: OLD });
  const stack = await startTestApi({ store: lab.storeLocation, ...api });
  const worker = await startTestWorker({ taskQueue: stack.taskQueue, hosts: lab, store: lab.store });
  return { lab, api: stack, worker };
}

/** Launches security patching of the lab through the API as tess; returns the run id. */
async function launchPatching(api: TestApi, input: Record<string, unknown>): Promise<string> {
  const launched = await request(api.server)
    .post('/v1/runs')
    .set(auth('tess'))
    .send({
      runbook: 'security-patching',
      input: { targets: { tags: ['lab'] }, patches: [{ package: 'openssl', version: '3.0.15' }], bakeSeconds: 0, ...input },
    })
    .expect(201);
  return launched.body.runId as string;
}

describe.each(STORE_BACKENDS)('host records in the store ($name)', ({ freshLocation }) => {
  let store: Store;
  beforeAll(async () => {
    store = openStore(await freshLocation());
  });
  afterAll(closeStores);

  test('a retried write of a batch rewrites the same rows, never adds one; the plan keeps its order and batches', async () => {
    const inventory = new InventoryStore(store);
    await inventory.replace({ hosts: [labHost('c1', 'canary'), labHost('p1', 'prod'), labHost('p2', 'prod'), labHost('p3', 'prod')] });
    const acts = createHostRecordActivities(store, inventory);
    const runId = `run-${randomUUID()}`;
    const plan = { runId, targets: { tags: ['lab'] }, canary: { tags: ['canary'] }, waves: ['rest' as const], batchSize: 2 };
    expect(await acts.planRollout(plan)).toEqual({ targets: 4, canary: 1, waves: [3] });
    await acts.planRollout(plan); // a retry
    expect(await acts.planRollout({ ...plan, runId: `refused-${runId}`, canary: { tags: ['nowhere'] } })).toMatchObject({
      refusal: 'no target is in the canary group; the change must be tried on a lab group first',
    });
    expect(await store.runHosts.has(`refused-${runId}`)).toBe(false);
    expect(await acts.rolloutBatchHosts({ runId, wave: 1, batch: 0 })).toEqual(['p1', 'p2']);
    expect(await acts.rolloutBatchHosts({ runId, wave: 1, batch: 1 })).toEqual(['p3']);

    const outcome = (state: HostRecord['state'], attempts: number): HostRecord[] => [
      {
        name: 'p1',
        wave: 1,
        state,
        attempts,
        snapshotId: 'snap-p1',
        startedAt: '2026-11-30T10:00:00.000Z',
        at: '2026-11-30T10:00:05.000Z',
      },
    ];
    await acts.recordHostOutcomes({ runId, batch: 0, hosts: outcome('failed', 2) });
    await acts.recordHostOutcomes({ runId, batch: 0, hosts: outcome('rolled_back', 3) }); // the retried activity
    const page = await store.runHosts.page(runId, { offset: 0, limit: 10 });
    expect(page.total).toBe(4);
    expect(page.hosts.map((h) => [h.host, h.wave, h.batch, h.state])).toEqual([
      ['c1', 0, 0, 'pending'],
      ['p1', 1, 0, 'rolled_back'],
      ['p2', 1, 0, 'pending'],
      ['p3', 1, 1, 'pending'],
    ]);
    expect(page.hosts[1]).toMatchObject({ attempts: 3, snapshotId: 'snap-p1', startedAt: '2026-11-30T10:00:00.000Z' });

    await acts.recordHostOutcomes({ runId, batch: 1, hosts: [{ name: 'p3', wave: 1, state: 'patched', snapshotId: 'snap-p3' }] });
    expect(await acts.skipPendingHosts({ runId, reason: 'not started: failure threshold passed' })).toEqual({ hosts: 2 });
    const skipped = await store.runHosts.page(runId, { state: 'skipped', offset: 1, limit: 1 });
    expect(skipped).toMatchObject({ total: 2, hosts: [{ host: 'p2', error: 'not started: failure threshold passed' }] });
    // What a rollback undoes: the hosts still patched, with their snapshots.
    expect(await acts.changedHosts({ runId, limit: 10 })).toEqual([{ name: 'p3', wave: 1, snapshotId: 'snap-p3' }]);
  });

  test("the run's status copy keeps the newest version: a late write of an older one is ignored", async () => {
    const runId = `run-${randomUUID()}`;
    await store.runStatus.put(runId, 'running', runStatusVersion(0, 10, 1), '{"v":1}');
    await store.runStatus.put(runId, 'awaiting_approval', runStatusVersion(0, 25, 2), '{"v":2}');
    await store.runStatus.put(runId, 'running', runStatusVersion(0, 10, 1), '{"v":1}'); // arrives late
    expect(await store.runStatus.get(runId)).toMatchObject({ status: 'awaiting_approval', body: '{"v":2}' });
    await store.runStatus.put(runId, 'running', runStatusVersion(1, 5, 1), '{"v":3}'); // continued as new: a shorter history
    expect(await store.runStatus.get(runId)).toMatchObject({ status: 'running', body: '{"v":3}' });
  });
});

describe('a fleet run that stops at its failure threshold', () => {
  interface Outcome {
    runId: string;
    statusBytes: number;
    queryBytes: number;
    state: RunState;
  }
  const outcomes = new Map<number, Outcome>();

  /** A lab fleet of `hosts`, its API and worker on its store; the first production host fails its health check, which stops the rollout. */
  async function stoppedRun(hosts: number, check: (api: TestApi, runId: string) => Promise<void>) {
    const { lab, api, worker } = await labStack(2, hosts - 2);
    await lab.fleet.setFaults(lab.production[0], { failHealth: true });
    try {
      const runId = await launchPatching(api, {
        waves: [1, 'rest'],
        concurrency: 10,
        batchSize: 200,
        failureThreshold: { count: 0 },
        rollback: 'all-changed-hosts',
        ticket: 'CHG-PAGING',
      });
      const handle = temporal.client.workflow.getHandle(runId);
      await eventually(
        async () => ((await handle.query(runStateQuery)).gates.some((g) => g.state === 'pending') ? true : undefined),
        10 * 60_000,
        'production gate',
      );
      await request(api.server)
        .post(`/v1/runs/${runId}/approvals/approve-production`)
        .set(auth('alex'))
        .send({ decision: 'approve', comment: 'canary clean' })
        .expect(200);
      await handle.result().catch(() => undefined); // it fails: the threshold is passed
      const status = await request(api.server).get(`/v1/runs/${runId}`).set(auth('tess')).expect(200);
      const state = status.body as RunState;
      outcomes.set(hosts, {
        runId,
        state,
        statusBytes: Buffer.byteLength(status.text),
        queryBytes: Buffer.byteLength(JSON.stringify(await handle.query(runStateQuery))),
      });
      await check(api, runId);
    } finally {
      await worker.stop();
      await api.app.close();
      await lab.store.close();
    }
  }

  test(`${SMALL} hosts: ends failed with its report; the hosts endpoint pages what happened on each host`, async () => {
    await stoppedRun(SMALL, async (api, runId) => {
      const hosts = (query: string) => request(api.server).get(`/v1/runs/${runId}/hosts${query}`).set(auth('tess'));

      const first = (await hosts('?pageSize=3').expect(200)).body;
      expect(first).toMatchObject({ runId, state: null, page: 1, pageSize: 3, total: SMALL, pages: Math.ceil(SMALL / 3) });
      expect(first.hosts.map((h: HostRecord) => [h.name, h.wave, h.state])).toEqual([
        ['lab-canary-00001', 0, 'rolled_back'],
        ['lab-canary-00002', 0, 'rolled_back'],
        ['lab-prod-00001', 1, 'rolled_back'],
      ]);
      expect(first.hosts[2].error).toContain('unhealthy after patching');
      expect(first.hosts[2].attempts).toBeGreaterThanOrEqual(1);
      expect(first.next).toBe(`/v1/runs/${runId}/hosts?page=2&pageSize=3`);

      const skipped = (await hosts('?state=skipped&page=2&pageSize=100').expect(200)).body;
      expect(skipped).toMatchObject({ state: 'skipped', page: 2, total: SMALL - 3 });
      expect(skipped.hosts).toHaveLength(100);
      expect(skipped.hosts[0]).toMatchObject({ name: 'lab-prod-00102', state: 'skipped' });
      expect(skipped.hosts[0].error).toContain('not started: failure threshold passed');
      expect((await hosts('?state=skipped&page=6&pageSize=100').expect(200)).body).toMatchObject({ hosts: [], next: null });

      const unknown = (await hosts('?page=1&sort=name&limit=5').expect(400)).body;
      expect(JSON.stringify(unknown)).toMatch(/sort/);
      expect(JSON.stringify(unknown)).toMatch(/limit/);
      expect(JSON.stringify((await hosts('?pageSize=501').expect(400)).body)).toMatch(/pageSize/);
      expect(JSON.stringify((await hosts('?state=exploded').expect(400)).body)).toMatch(/state/);
      await request(api.server).get('/v1/runs/security-patching-never-launched/hosts').set(auth('tess')).expect(404);

      const report = (await request(api.server).get(`/v1/runs/${runId}/report`).set(auth('tess')).expect(200)).text;
      expect(report).toContain('| lab-prod-00001 | wave 1 | rolled_back |');
      expect(report).toContain(`| lab-prod-${String(SMALL - 2).padStart(5, '0')} | wave 2 | skipped |`);
    });
    const { state, statusBytes } = outcomes.get(SMALL) as Outcome;
    expect(state.status).toBe('failed');
    expect(state.rollout?.stopReason).toContain('failure threshold passed');
    expect(state.rollout?.counts).toEqual({ ...zero, rolled_back: 3, skipped: SMALL - 3 });
    expect(state.rollout?.hosts).toEqual([]); // none in flight
    expect(state.steps.find((s) => s.id === 'write-report')?.state).toBe('succeeded');
    expect(statusBytes).toBeLessThan(STATUS_LIMIT_BYTES);
  });

  test(`${LARGE} hosts: ends failed with its report, and its status is as small as the ${SMALL}-host run's`, async () => {
    await stoppedRun(LARGE, async (api, runId) => {
      const last = (
        await request(api.server)
          .get(`/v1/runs/${runId}/hosts?state=skipped&pageSize=500&page=${Math.ceil((LARGE - 3) / 500)}`)
          .set(auth('tess'))
          .expect(200)
      ).body;
      expect(last.hosts.at(-1)).toMatchObject({ name: `lab-prod-${String(LARGE - 2).padStart(5, '0')}`, state: 'skipped' });
      const report = (await request(api.server).get(`/v1/runs/${runId}/report`).set(auth('tess')).expect(200)).text;
      expect(report).toContain(`| lab-prod-${String(LARGE - 2).padStart(5, '0')} | wave 2 | skipped |`);
    });
    const large = outcomes.get(LARGE) as Outcome;
    expect(large.state.status).toBe('failed');
    expect(large.state.rollout?.counts).toEqual({ ...zero, rolled_back: 3, skipped: LARGE - 3 });
    expect(large.state.steps.find((s) => s.id === 'write-report')?.state).toBe('succeeded');
    expect(large.statusBytes).toBeLessThan(STATUS_LIMIT_BYTES);
    expect(large.queryBytes).toBeLessThan(STATUS_LIMIT_BYTES);
    const small = outcomes.get(SMALL);
    // The same run, 40 times the hosts: only the digits of the counts and the times differ.
    if (small) expect(Math.abs(large.statusBytes - small.statusBytes)).toBeLessThan(512);
  });
});

describe("GET /v1/runs/{id} from the store's copy of the run", () => {
  test('a run waiting at its gate is shown with no worker polling; live=true asks the run, and says when no worker answers', async () => {
    const stack = await labStack(1, 2, { updateTimeoutMs: 3_000 });
    const { lab, api } = stack;
    let { worker } = stack;
    try {
      const runId = await launchPatching(api, { waves: ['rest'], ticket: 'CHG-COPY' });
      const detail = async (query = '') =>
        (await request(api.server).get(`/v1/runs/${runId}${query}`).set(auth('tess')).expect(200)).body as RunState & {
          temporalStatus: string;
        };
      await eventually(async () => ((await detail()).status === 'awaiting_approval' ? true : undefined), 60_000, 'the gate, in the copy');

      await worker.stop(); // no worker polls the task queue now
      const copy = await detail();
      expect(copy).toMatchObject({ runId, status: 'awaiting_approval', temporalStatus: 'RUNNING' });
      expect(copy.gates.map((g) => [g.id, g.state])).toEqual([['approve-production', 'pending']]);
      expect(copy.steps.find((s) => s.id === 'canary-wave')?.state).toBe('succeeded');
      expect(copy.rollout?.counts).toMatchObject({ patched: 1, pending: 2 });
      const live = await request(api.server).get(`/v1/runs/${runId}?live=true`).set(auth('tess')).expect(503);
      expect(live.body.message).toMatch(/worker is not answering/);
      const refused = await request(api.server).get(`/v1/runs/${runId}?live=yes&fresh=1`).set(auth('tess')).expect(400);
      expect(JSON.stringify(refused.body)).toMatch(/live/);
      expect(JSON.stringify(refused.body)).toMatch(/fresh/);

      worker = await startTestWorker({ taskQueue: api.taskQueue, hosts: lab, store: lab.store });
      // The new worker replays the run before it answers: ask until it does.
      const asked = await eventually(
        async () => {
          const res = await request(api.server).get(`/v1/runs/${runId}?live=true`).set(auth('tess'));
          return res.status === 200 ? (res.body as RunState) : undefined;
        },
        60_000,
        'the run, live',
      );
      expect(asked).toMatchObject({ runId, status: 'awaiting_approval' });
      await request(api.server)
        .post(`/v1/runs/${runId}/approvals/approve-production`)
        .set(auth('alex'))
        .send({ decision: 'approve', comment: 'canary clean' })
        .expect(200);
      // The copy is written before the decision is answered: the approver reads what he did.
      expect((await detail()).gates[0].state).toBe('approved');
      await temporal.client.workflow.getHandle(runId).result();
      const [stored, ended] = [await detail(), await detail('?live=true')];
      expect(stored.status).toBe('succeeded');
      expect(stored.steps.map((s) => [s.id, s.state])).toEqual(ended.steps.map((s) => [s.id, s.state]));
      expect(stored.rollout?.counts).toEqual(ended.rollout?.counts);
    } finally {
      await worker.stop();
      await api.app.close();
      await lab.store.close();
    }
  });
});

function labHost(name: string, group: 'canary' | 'prod'): Host {
  return { name, address: `${name}.lab.invalid`, osFamily: 'lab', driver: 'lab', tags: ['lab', group] };
}

const zero = { pending: 0, patching: 0, patched: 0, failed: 0, rolled_back: 0, rollback_failed: 0, skipped: 0 };
