import request from 'supertest';
import { auth, restoreInput, startTestApi, type TestApi } from './app';

let api: TestApi;

beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => {
  await api?.app.close();
});

/** Launches as the technician; these all fail validation, so no workflow is started. */
function launch(body: unknown) {
  return request(api.server)
    .post('/v1/runs')
    .set(auth('tess'))
    .send(body as object);
}

function issuePaths(body: { issues?: { path: string }[] }): string[] {
  return (body.issues ?? []).map((i) => i.path);
}

describe('launch input is validated with the runbook schema', () => {
  it('names the missing repository.passwordRef as input.repository.passwordRef', async () => {
    const input = restoreInput({ repository: { url: '/srv/backups/restic' } });
    const res = await launch({ runbook: 'data-restore', input }).expect(400);
    expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    expect(issuePaths(res.body)).toEqual(['input.repository.passwordRef']);
    expect(res.body.message).toMatch(/input\.repository\.passwordRef/);
  });

  it('refuses a secret given as a literal instead of a reference, without echoing it', async () => {
    const input = restoreInput({ repository: { url: '/srv/backups/restic', passwordRef: 'hunter2-correct-horse' } });
    const res = await launch({ runbook: 'data-restore', input }).expect(400);
    expect(res.body.issues).toEqual([{ path: 'input.repository.passwordRef', message: expect.stringMatching(/secret reference/) }]);
    expect(JSON.stringify(res.body)).not.toContain('hunter2');
  });

  it.each(['file:/etc/shadow', 'env:PATH', 'file:/etc/hostname'])(
    'refuses %s as a password: secrets are named by the configuration, never a path or a variable',
    async (passwordRef) => {
      const input = restoreInput({ repository: { url: '/srv/backups/restic', passwordRef } });
      const res = await launch({ runbook: 'data-restore', input }).expect(400);
      expect(res.body.issues).toEqual([{ path: 'input.repository.passwordRef', message: expect.stringMatching(/secret:<name>/) }]);
    },
  );

  it('refuses a secret name the configuration does not define with 400 naming the field', async () => {
    const input = restoreInput({ repository: { url: '/srv/backups/restic', passwordRef: 'secret:backup/nope' } });
    const res = await launch({ runbook: 'data-restore', input }).expect(400);
    expect(res.body.issues).toEqual([{ path: 'input.repository.passwordRef', message: 'no secret named backup/nope is configured' }]);
  });

  it("refuses with 403 naming the field a secret the caller's roles may not use", async () => {
    const input = restoreInput({ repository: { url: '/srv/backups/restic', passwordRef: 'secret:backup/admin-only' } });
    const res = await launch({ runbook: 'data-restore', input }).expect(403);
    expect(res.body.issues).toEqual([
      { path: 'input.repository.passwordRef', message: 'secret backup/admin-only may be used only by admin' },
    ]);
  });

  it('refuses a schedule whose input names a secret the scheduler may not use, creating nothing', async () => {
    const input = restoreInput({ repository: { url: '/srv/backups/restic', passwordRef: 'secret:backup/admin-only' } });
    const res = await request(api.server)
      .post('/v1/schedules')
      .set(auth('sam'))
      .send({ id: 'secret-not-allowed', runbook: 'data-restore', input, spec: { cron: ['0 2 * * *'] } })
      .expect(403);
    expect(issuePaths(res.body)).toEqual(['input.repository.passwordRef']);
    await request(api.server).get('/v1/schedules/secret-not-allowed').set(auth('sam')).expect(404);
  });

  it('refuses with 403 a secret defined for another runbook', async () => {
    const input = restoreInput({ repository: { url: '/srv/backups/restic', passwordRef: 'secret:ssh/patching-key' } });
    const res = await launch({ runbook: 'data-restore', input }).expect(403);
    expect(res.body.issues).toEqual([
      { path: 'input.repository.passwordRef', message: expect.stringContaining('may not be used by the runbook data-restore') },
    ]);
  });

  it("refuses a password pointed at a repository of the requester's making (no run can test a guessed password)", async () => {
    const input = restoreInput({ repository: { url: '/tmp/guessed-password-repo', passwordRef: 'secret:backup/test-projects' } });
    const res = await launch({ runbook: 'data-restore', input }).expect(403);
    expect(res.body.issues).toEqual([
      { path: 'input.repository.passwordRef', message: expect.stringContaining('not the password of this repository') },
    ]);
  });

  it('refuses a snapshotId that is not a restic snapshot id', async () => {
    const res = await launch({ runbook: 'data-restore', input: restoreInput({ snapshotId: 'latest; rm -rf /' }) }).expect(400);
    expect(res.body.issues).toEqual([{ path: 'input.snapshotId', message: expect.stringMatching(/snapshot id/) }]);
  });

  it('reports every bad field at once, including relative paths and an empty user list', async () => {
    const res = await launch({
      runbook: 'data-restore',
      input: restoreInput({ path: 'srv/projects', target: '/srv/../etc', affectedUsers: [] }),
    }).expect(400);
    expect(issuePaths(res.body).sort()).toEqual(['input.affectedUsers', 'input.path', 'input.target']);
  });

  it('refuses snapshotId together with before (the schema refinement)', async () => {
    const res = await launch({
      runbook: 'data-restore',
      input: restoreInput({ snapshotId: 'abcdef12', before: '2025-01-01T00:00:00Z' }),
    }).expect(400);
    expect(issuePaths(res.body)).toEqual(['input.before']);
  });

  it('names input itself when it is missing', async () => {
    const res = await launch({ runbook: 'data-restore' }).expect(400);
    expect(issuePaths(res.body)).toEqual(['input']);
  });
});

describe('launch body', () => {
  it('answers 404 naming an unknown runbook', async () => {
    const res = await launch({ runbook: 'reboot-the-world', input: {} }).expect(404);
    expect(res.body).toMatchObject({ statusCode: 404, error: 'Not Found' });
    expect(res.body.message).toContain('reboot-the-world');
  });

  it('refuses an idempotencyKey with characters outside [A-Za-z0-9._:-] or longer than 200', async () => {
    const bad = await launch({ runbook: 'data-restore', input: restoreInput(), idempotencyKey: 'has space' }).expect(400);
    expect(issuePaths(bad.body)).toEqual(['idempotencyKey']);
    const long = await launch({ runbook: 'data-restore', input: restoreInput(), idempotencyKey: 'k'.repeat(201) }).expect(400);
    expect(issuePaths(long.body)).toEqual(['idempotencyKey']);
  });

  it('refuses unknown fields, so a misspelt option is not silently ignored', async () => {
    const res = await launch({ runbook: 'data-restore', input: restoreInput(), idempotency_key: 'k1' }).expect(400);
    expect(res.body.issues[0].message).toMatch(/idempotency_key/);
  });

  it('answers 400 JSON to a body that is not JSON', async () => {
    const res = await request(api.server)
      .post('/v1/runs')
      .set(auth('tess'))
      .set('Content-Type', 'application/json')
      .send('{"runbook": "data-restore",')
      .expect(400);
    expect(res.body).toMatchObject({ statusCode: 400, message: expect.stringMatching(/JSON/) });
  });
});

describe('query and path parameters', () => {
  it('refuses a pageSize outside 1..100 or not a number, naming pageSize', async () => {
    for (const pageSize of ['0', '101', 'ten', '2.5']) {
      const res = await request(api.server).get('/v1/runs').query({ pageSize }).set(auth('tess')).expect(400);
      expect(issuePaths(res.body)).toEqual(['pageSize']);
    }
  });

  it('refuses a status filter that is not a run status, and an unknown runbook filter', async () => {
    const status = await request(api.server).get('/v1/runs?status=exploded').set(auth('tess')).expect(400);
    expect(issuePaths(status.body)).toEqual(['status']);
    const runbook = await request(api.server).get('/v1/runs?runbook=nope').set(auth('tess')).expect(400);
    expect(issuePaths(runbook.body)).toEqual(['runbook']);
  });

  it('keeps quotes out of the visibility query: a requestedBy with a quote is refused', async () => {
    const res = await request(api.server).get("/v1/runs?requestedBy=x' OR 1=1").set(auth('tess')).expect(400);
    expect(issuePaths(res.body)).toEqual(['requestedBy']);
  });

  it('refuses a malformed run id and a decision that is neither approve nor reject', async () => {
    const id = await request(api.server).get('/v1/runs/%20bad%20id').set(auth('tess')).expect(400);
    expect(issuePaths(id.body)).toEqual(['id']);
    const decision = await request(api.server)
      .post('/v1/runs/data-restore-x/approvals/approve-restore')
      .set(auth('alex'))
      .send({ decision: 'maybe' })
      .expect(400);
    expect(issuePaths(decision.body)).toEqual(['decision']);
  });

  it('refuses a cancel without a reason', async () => {
    const res = await request(api.server).post('/v1/runs/data-restore-x/cancel').set(auth('tess')).send({}).expect(400);
    expect(issuePaths(res.body)).toEqual(['reason']);
  });

  it('answers 404 JSON for a route that does not exist', async () => {
    const res = await request(api.server).get('/v1/nothing-here').set(auth('tess')).expect(404);
    expect(res.body).toMatchObject({ statusCode: 404, error: 'Not Found' });
  });
});

describe('strict inputs: unknown fields, bounds, control characters (issue 10)', () => {
  const patchInput = (overrides: Record<string, unknown> = {}) => ({
    targets: { tags: ['lab'] },
    patches: [{ package: 'openssl', version: '3.0.15' }],
    ...overrides,
  });

  it('refuses an unknown field inside a runbook input, naming it (a typo of before does not restore the newest snapshot)', async () => {
    const res = await launch({ runbook: 'data-restore', input: restoreInput({ befor: '2026-11-10T00:00:00Z' }) }).expect(400);
    expect(res.body.issues).toEqual([{ path: 'input.befor', message: 'unknown field befor' }]);
  });

  it('refuses a misspelt failureThreshold of a patch run instead of running with the default', async () => {
    const res = await launch({ runbook: 'security-patching', input: patchInput({ failureTreshold: { count: 0 } }) }).expect(400);
    expect(issuePaths(res.body)).toEqual(['input.failureTreshold']);
  });

  it('names every unknown field at any depth at once', async () => {
    const input = restoreInput({
      repository: { url: '/srv/backups/restic', passwordRef: 'secret:backup/test-projects', password: 'x' },
      approval: { timeoutSeconds: 60, escalationContakt: 'ops' },
    });
    const res = await launch({ runbook: 'data-restore', input }).expect(400);
    expect(issuePaths(res.body).sort()).toEqual(['input.approval.escalationContakt', 'input.repository.password']);
  });

  it('refuses a 100,000-character target and a target holding a NUL byte', async () => {
    const long = await launch({ runbook: 'data-restore', input: restoreInput({ target: `/srv/${'a'.repeat(100_000)}` }) }).expect(400);
    expect(issuePaths(long.body)).toEqual(['input.target']);
    const nul = await launch({ runbook: 'data-restore', input: restoreInput({ target: '/srv/projects\u0000/etc' }) }).expect(400);
    expect(nul.body.issues).toEqual([{ path: 'input.target', message: 'must not contain control characters' }]);
  });

  it('refuses control characters in free text but keeps line breaks in a comment', async () => {
    const bell = await launch({ runbook: 'data-restore', input: restoreInput({ ticket: 'INC-1\u0007' }) }).expect(400);
    expect(issuePaths(bell.body)).toEqual(['input.ticket']);
    const cancel = await request(api.server)
      .post('/v1/runs/data-restore-x/cancel')
      .set(auth('tess'))
      .send({ reason: 'two\nlines\u001b[31m' })
      .expect(400);
    expect(issuePaths(cancel.body)).toEqual(['reason']);
  });

  it('answers GET /v1/schedules?runbook=a%00b with 400 naming runbook, never reaching Temporal', async () => {
    const res = await request(api.server).get('/v1/schedules?runbook=a%00b').set(auth('tess')).expect(400);
    expect(issuePaths(res.body)).toEqual(['runbook']);
  });

  it('refuses an id with a NUL in the path, and unknown query parameters', async () => {
    const id = await request(api.server).get('/v1/runs/data-restore-%00x').set(auth('tess')).expect(400);
    expect(issuePaths(id.body)).toEqual(['id']);
    const query = await request(api.server).get('/v1/schedules?runbok=data-restore').set(auth('tess')).expect(400);
    expect(issuePaths(query.body)).toEqual(['runbok']);
  });
});
