import request from 'supertest';
import { freePort } from '../harness/dev-server';
import { TEST_PASSWORD_REF, TEST_REPOSITORY, startTestApi, type TestApi } from './app';

describe('with Temporal up', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(async () => {
    await api?.app.close();
  });

  it('GET /healthz answers ok', async () => {
    await request(api.server).get('/healthz').expect(200, { status: 'ok' });
  });

  it('GET /readyz answers ready when Temporal answers', async () => {
    await request(api.server).get('/readyz').expect(200, { status: 'ready' });
  });
});

describe('with Temporal unreachable', () => {
  let api: TestApi;
  beforeAll(async () => {
    // Nothing listens on a port freePort just released: the API must still start.
    api = await startTestApi({ temporalAddress: `127.0.0.1:${await freePort()}`, updateTimeoutMs: 1500 });
  });
  afterAll(async () => {
    await api?.app.close();
  });

  it('still answers /healthz: the process is up', async () => {
    await request(api.server).get('/healthz').expect(200, { status: 'ok' });
  });

  it('answers /readyz with 503 and a reason within about 2 s', async () => {
    const started = Date.now();
    const res = await request(api.server).get('/readyz').expect(503);
    expect(Date.now() - started).toBeLessThan(4_000);
    expect(res.body).toMatchObject({ status: 'unavailable', reason: expect.stringMatching(/Temporal/) });
  });

  it('answers a launch with 503, not 500, when the server cannot be reached', async () => {
    const res = await request(api.server)
      .post('/v1/runs')
      .set({ Authorization: 'Bearer demo-technician-token' })
      .send({
        runbook: 'data-restore',
        input: {
          repository: { url: TEST_REPOSITORY, passwordRef: TEST_PASSWORD_REF },
          path: '/srv/projects',
          target: '/srv/projects',
          affectedUsers: ['erin@example.com'],
        },
      })
      .expect(503);
    expect(res.body.message).toMatch(/unreachable|did not answer/);
  });
});
