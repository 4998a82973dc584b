import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { eventually } from '../harness/worker';
import { auth } from './app';
import { startRestoreEnvironment, type RestoreEnvironment } from './restore-environment';

let env: RestoreEnvironment;
beforeAll(async () => {
  env = await startRestoreEnvironment();
});
afterAll(() => env?.stop());

const server = () => env.api.server;
const POLICY = '/v1/policy/restore-targets';

/** The policy every test starts from: the environment's repository may restore under its targets folder. */
async function allowTargetsRoot(extraRoots: string[] = []): Promise<void> {
  await request(server())
    .put(POLICY)
    .set(auth('ada'))
    .send({ rules: [{ repository: env.repository, roots: [env.targetsRoot, ...extraRoots] }] })
    .expect(200);
}
beforeEach(() => allowTargetsRoot());

async function launch(target: string) {
  return request(server())
    .post('/v1/runs')
    .set(auth('tess'))
    .send({ runbook: 'data-restore', input: { ...(await env.input()), target } });
}

/** A 403 whose only issue is input.target, with the rule that refused it. */
function expectRefusedTarget(res: request.Response, rule: RegExp): void {
  expect(res.status).toBe(403);
  expect(res.body.issues).toEqual([{ path: 'input.target', message: expect.stringMatching(rule) }]);
  expect(res.body.issues[0].message).toMatch(/^restore target policy: /);
}

describe('restore target policy (admin API)', () => {
  it('is read and replaced by admins only, with an ETag that makes a stale write a 412', async () => {
    const read = await request(server()).get(POLICY).set(auth('ada')).expect(200);
    expect(read.body).toMatchObject({ rules: [{ repository: env.repository, roots: [env.targetsRoot] }], updatedAt: expect.any(String) });
    const etag = read.headers.etag;
    await request(server()).get(POLICY).set(auth('tess')).expect(403);
    await request(server()).put(POLICY).set(auth('tess')).send({ rules: [] }).expect(403);

    const changed = await request(server()).put(POLICY).set(auth('ada')).set('If-Match', etag).send({ rules: read.body.rules });
    expect(changed.status).toBe(200);
    expect(changed.headers.etag).not.toBe(etag);
    const stale = await request(server()).put(POLICY).set(auth('ada')).set('If-Match', etag).send({ rules: [] });
    expect(stale.status).toBe(412);
  });

  it('refuses unknown fields, relative roots and a repository named twice, naming each field', async () => {
    const res = await request(server())
      .put(POLICY)
      .set(auth('ada'))
      .send({
        rules: [
          { repository: 'r', roots: ['srv/relative'], extra: 1 },
          { repository: 'r', roots: ['/srv'] },
        ],
      })
      .expect(400);
    const fields = res.body.issues.map((i: { path: string }) => i.path);
    expect(fields).toEqual(expect.arrayContaining(['rules.0.extra', 'rules.0.roots.0', 'rules.1.repository']));
    expect(res.body.issues.find((i: { path: string }) => i.path === 'rules.1.repository').message).toMatch(/has a rule already/);
  });
});

describe('launches outside the restore target policy', () => {
  it('refuses / and /etc with 403 naming input.target, even when the policy lists them', async () => {
    await allowTargetsRoot(['/', '/etc']);
    expectRefusedTarget(await launch('/'), /\/ is a system folder/);
    expectRefusedTarget(await launch('/etc'), /\/etc is a system folder/);
    expectRefusedTarget(await launch('/etc/cron.d/restored'), /inside the system folder \/etc/);
  });

  it("refuses the service's own data folder (the store's folder) whatever the policy says", async () => {
    const location = env.api.store.location;
    if (location.kind !== 'sqlite') throw new Error('the test API keeps its store in SQLite');
    const dataDir = path.dirname(location.file);
    await allowTargetsRoot([dataDir]);
    expectRefusedTarget(await launch(dataDir), /service's own data folder/);
    expectRefusedTarget(await launch(path.join(dataDir, 'restored')), /service's own data folder/);
  });

  it('refuses a target outside the roots allowed for its repository', async () => {
    const elsewhere = path.join(os.tmpdir(), 'not-an-allowed-root', 'projects');
    expectRefusedTarget(await launch(elsewhere), /outside the roots the policy allows/);
  });

  it('refuses a target inside an allowed root that reaches /etc through a symlink', async () => {
    const link = path.join(env.targetsRoot, `to-etc-${process.pid}`);
    await fs.mkdir(env.targetsRoot, { recursive: true });
    await fs.symlink('/etc', link);
    try {
      expectRefusedTarget(await launch(path.join(link, 'cron.d')), /resolves to \/etc\/cron\.d: .*inside the system folder \/etc/);
    } finally {
      await fs.unlink(link);
    }
  });

  it('refuses a schedule whose target is outside the policy, the same way', async () => {
    const res = await request(server())
      .post('/v1/schedules')
      .set(auth('sam'))
      .send({
        id: `policy-${process.pid}`,
        runbook: 'data-restore',
        input: { ...(await env.input()), target: '/etc' },
        spec: { cron: ['0 3 * * *'], timezone: 'Europe/Berlin' },
      });
    expectRefusedTarget(res, /\/etc is a system folder/);
  });

  it('launches a restore into an allowed root (201)', async () => {
    const res = await request(server())
      .post('/v1/runs')
      .set(auth('tess'))
      .send({ runbook: 'data-restore', input: await env.input() });
    expect(res.status).toBe(201);
    await request(server()).post(`/v1/runs/${res.body.runId}/cancel`).set(auth('tess')).send({ reason: 'test done' });
  });
});

describe("the worker's re-check right before the swap", () => {
  it('fails the run without touching the target when the policy stopped allowing it after the launch', async () => {
    const input = await env.input();
    const launched = await request(server()).post('/v1/runs').set(auth('tess')).send({ runbook: 'data-restore', input }).expect(201);
    const runId: string = launched.body.runId;
    await eventually(
      async () => {
        const state = await request(server()).get(`/v1/runs/${runId}`).set(auth('tess'));
        return state.body.status === 'awaiting_approval' ? true : undefined;
      },
      60_000,
      `${runId} to wait for approval`,
    );
    // The admin narrows the policy while the run waits for its approval.
    await request(server())
      .put(POLICY)
      .set(auth('ada'))
      .send({ rules: [{ repository: env.repository, roots: [path.join(env.targetsRoot, 'none-of-these')] }] })
      .expect(200);
    await request(server())
      .post(`/v1/runs/${runId}/approvals/approve-restore`)
      .set(auth('alex'))
      .send({ decision: 'approve', comment: 'approved before the policy change was noticed' })
      .expect(200);

    const failed = await eventually(
      async () => {
        const state = await request(server()).get(`/v1/runs/${runId}`).set(auth('tess'));
        return state.body.status === 'failed' ? state.body : undefined;
      },
      60_000,
      `${runId} to fail`,
    );
    const swap = failed.steps.find((s: { id: string }) => s.id === 'swap-into-target');
    expect(swap).toMatchObject({
      state: 'failed',
      error: expect.stringMatching(/refused by policy before anything changed: .*outside the roots/),
    });
    // Nothing was swapped: the damaged content is still there, no retained copy was made.
    expect(await fs.readFile(path.join(input.target as string, 'report.txt'), 'utf8')).toBe('DAMAGED\n');
    const siblings = await fs.readdir(path.dirname(input.target as string));
    expect(siblings.filter((n) => n.includes('.pre-restore-'))).toEqual([]);
  });
});
