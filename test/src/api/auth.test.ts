import request from 'supertest';
import { auth, restoreInput, startTestApi, type TestApi } from './app';

let api: TestApi;

beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => {
  await api?.app.close();
});

describe('authentication', () => {
  it('answers 401 JSON with a Bearer challenge when the token is missing', async () => {
    const res = await request(api.server).get('/v1/runbooks').expect(401);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(res.body).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
    expect(res.body.message).toMatch(/Authorization/);
  });

  it('answers 401 to an unknown token and to a malformed Authorization header', async () => {
    await request(api.server).get('/v1/runs').set('Authorization', 'Bearer not-a-real-token').expect(401);
    await request(api.server).get('/v1/runs').set('Authorization', 'Basic dGVzczpzZWNyZXQ=').expect(401);
    // The sha256 of a known token is not itself a token.
    await request(api.server)
      .get('/v1/runs')
      .set('Authorization', 'Bearer 32ff96d506aec6d87b0c6f92b2c65c19ab4f077e00372846415797671a5963ad')
      .expect(401);
  });

  it('lets every demo principal view the catalog', async () => {
    for (const who of ['tess', 'alex', 'blair', 'sam', 'ada'] as const) {
      await request(api.server).get('/v1/runbooks').set(auth(who)).expect(200);
    }
  });
});

describe('roles', () => {
  it('refuses a launch by an approver or a scheduler with 403 naming the role needed', async () => {
    for (const who of ['alex', 'sam'] as const) {
      const res = await request(api.server)
        .post('/v1/runs')
        .set(auth(who))
        .send({ runbook: 'data-restore', input: restoreInput() })
        .expect(403);
      expect(res.body).toMatchObject({ statusCode: 403, error: 'Forbidden' });
      expect(res.body.message).toMatch(/technician/);
    }
  });

  it('refuses a cancel by an approver, and a decision by a technician, before calling Temporal', async () => {
    await request(api.server).post('/v1/runs/data-restore-x/cancel').set(auth('alex')).send({ reason: 'no' }).expect(403);
    await request(api.server)
      .post('/v1/runs/data-restore-x/approvals/approve-restore')
      .set(auth('tess'))
      .send({ decision: 'approve' })
      .expect(403);
  });

  it("lets a support line's decision through to the run, which checks the gate's own roles (incident gates take tier2)", async () => {
    const res = await request(api.server)
      .post('/v1/runs/incident-response-x/approvals/approve-remediation')
      .set(auth('gus'))
      .send({ decision: 'approve' })
      .expect(404);
    expect(res.body.message).toMatch(/incident-response-x/);
  });

  it('checks the token before the body: an unauthenticated launch with a bad body is 401, not 400', async () => {
    await request(api.server).post('/v1/runs').send({ nonsense: true }).expect(401);
  });
});

describe('tokens', () => {
  it('refuses an admin locking themselves out: revoking the token of the request, or dropping their own admin role (409)', async () => {
    const own = await request(api.server).get('/v1/admin/tokens?principalId=ada').set(auth('ada')).expect(200);
    const live = own.body.tokens.filter((t: { revokedAt: string | null }) => t.revokedAt === null);
    expect(live).toHaveLength(1);
    const refused = await request(api.server).delete(`/v1/admin/tokens/${live[0].id}`).set(auth('ada')).expect(409);
    expect(refused.body.message).toMatch(/authenticated with token .*another token/);

    const demoted = await request(api.server)
      .post('/v1/admin/tokens')
      .set(auth('ada'))
      .send({ principalId: 'ada', label: 'self-demotion', principal: { displayName: 'Ada', roles: ['technician'] } })
      .expect(409);
    expect(demoted.body.message).toMatch(/admin role from ada/);
    const me = await request(api.server).get('/v1/me').set(auth('ada')).expect(200);
    expect(me.body.roles).toContain('admin');
    // Keeping the admin role, one may change one's own name and roles.
    await request(api.server)
      .post('/v1/admin/tokens')
      .set(auth('ada'))
      .send({ principalId: 'ada', label: 'renamed', principal: { displayName: 'Ada A.', roles: me.body.roles } })
      .expect(201);
    // Another admin may take the role, and give it back.
    const other = await request(api.server)
      .post('/v1/admin/tokens')
      .set(auth('ada'))
      .send({ principalId: 'root', label: 'second admin', principal: { displayName: 'Root', roles: ['admin'] } })
      .expect(201);
    const asRoot = { Authorization: `Bearer ${other.body.token}` };
    const demote = (roles: string[]) =>
      request(api.server)
        .post('/v1/admin/tokens')
        .set(asRoot)
        .send({ principalId: 'ada', label: 'by root', principal: { displayName: 'Ada', roles } });
    await demote(['technician']).expect(201);
    await request(api.server).get('/v1/admin/tokens').set(auth('ada')).expect(403);
    await demote(me.body.roles).expect(201);
    await request(api.server).get('/v1/admin/tokens').set(auth('ada')).expect(200);

    // Another token of one's own may be revoked with this one, and then it is refused.
    const second = await request(api.server)
      .post('/v1/admin/tokens')
      .set(auth('ada'))
      .send({ principalId: 'ada', label: 'laptop' })
      .expect(201);
    const revoked = await request(api.server).delete(`/v1/admin/tokens/${second.body.id}`).set(auth('ada')).expect(200);
    expect(revoked.body.revokedBy).toBe('ada');
    await request(api.server).get('/v1/me').set('Authorization', `Bearer ${second.body.token}`).expect(401);
    await request(api.server).get('/v1/me').set(auth('ada')).expect(200);
  });
});

describe('unauthenticated endpoints', () => {
  it('serves /healthz, /openapi.json and /docs without a token', async () => {
    await request(api.server).get('/healthz').expect(200, { status: 'ok' });
    await request(api.server).get('/openapi.json').expect(200);
    await request(api.server).get('/docs/').expect(200);
  });
});
