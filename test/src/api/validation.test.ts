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
