import type { RunState } from '@runbooks/contracts';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { createLabFleet, type LabFleetFixture } from '../../../apps/worker/src/demo/lab-fixture';
import { eventually, startTestWorker, type TestWorker } from '../harness/worker';
import { auth, startTestApi, type TestApi } from './app';

/** A second fleet runbook through the API: launched, approved, steered and reported like security patching. */
describe('the software-fix runbook through the API, over a lab fleet', () => {
  const BEFORE = { 'libvpn-client': '4.2.0' };
  const fix = { package: 'libvpn-client', version: '4.2.1', reason: 'INC-7731: VPN client conflict' };
  let root: string;
  let api: TestApi;
  let worker: TestWorker;
  let lab: LabFleetFixture;

  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'api-software-fix-'));
    lab = await createLabFleet({ dir: path.join(root, randomUUID()), canary: 1, production: 3, packages: BEFORE });
    api = await startTestApi({ store: lab.storeLocation });
    worker = await startTestWorker({ taskQueue: api.taskQueue, hosts: lab, store: lab.store });
  });
  afterAll(async () => {
    await api?.app.close();
    await worker?.stop();
    await fs.rm(root, { recursive: true, force: true });
  });

  const getRun = async (runId: string): Promise<RunState> =>
    (await request(api.server).get(`/v1/runs/${runId}`).set(auth('tess')).expect(200)).body as RunState;

  it('is in the catalog, refuses an input without its fix or with a window override (400 naming the field), and runs to a host-by-host report', async () => {
    const catalog = await request(api.server).get('/v1/runbooks').set(auth('tess')).expect(200);
    expect(catalog.body.runbooks.map((r: { name: string }) => r.name)).toContain('software-fix');

    const input = { targets: { tags: ['lab'] }, waves: ['rest'], bakeSeconds: 0, hostTimeoutSeconds: 20, fix };
    const refused = await request(api.server)
      .post('/v1/runs')
      .set(auth('tess'))
      .send({ runbook: 'software-fix', input: { ...input, fix: undefined } })
      .expect(400);
    expect(refused.body.issues.map((i: { path: string }) => i.path)).toEqual(['input.fix']);
    const override = await request(api.server)
      .post('/v1/runs')
      .set(auth('ada'))
      .send({ runbook: 'software-fix', input: { ...input, windowOverride: { reason: 'urgent' } } })
      .expect(400);
    expect(override.body.issues).toEqual([{ path: 'input.windowOverride', message: expect.stringContaining('windowOverride') }]);
    const holdWithoutRollback = await request(api.server)
      .post('/v1/runs')
      .set(auth('tess'))
      .send({ runbook: 'software-fix', input: { ...input, fix: { ...fix, hold: true } } })
      .expect(400);
    expect(holdWithoutRollback.body.issues).toEqual([{ path: 'input.fix.hold', message: 'hold applies only to action "rollback"' }]);

    const launched = await request(api.server).post('/v1/runs').set(auth('tess')).send({ runbook: 'software-fix', input }).expect(201);
    const runId: string = launched.body.runId;
    await eventually(
      async () => ((await getRun(runId)).status === 'awaiting_approval' ? true : undefined),
      60_000,
      'the canary to pass and the production gate to open',
    );
    await request(api.server).post(`/v1/runs/${runId}/rollout/pause`).set(auth('tess')).send({ reason: 'vendor call' }).expect(200);
    await request(api.server)
      .post(`/v1/runs/${runId}/approvals/approve-production`)
      .set(auth('alex'))
      .send({ decision: 'approve' })
      .expect(200);
    await request(api.server).post(`/v1/runs/${runId}/rollout/resume`).set(auth('tess')).send({}).expect(200);
    const state = await eventually(async () => {
      const s = await getRun(runId);
      return s.status === 'succeeded' ? s : undefined;
    }, 60_000);

    expect(state.rollout?.operatorActions.map((a) => [a.action, a.by])).toEqual([
      ['pause', 'tess'],
      ['resume', 'tess'],
    ]);
    for (const host of [...lab.canary, ...lab.production])
      expect((await lab.fleet.readHost(host)).packages).toEqual({ 'libvpn-client': '4.2.1' });
    const report = await request(api.server).get(`/v1/runs/${runId}/report`).set(auth('tess')).expect(200);
    expect(report.text).toContain('# Software fix');
    for (const host of lab.production) expect(report.text).toMatch(new RegExp(`\\| ${host} \\| wave 1 \\| patched \\|`));
  });
});
