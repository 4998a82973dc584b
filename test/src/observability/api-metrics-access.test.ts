import request from 'supertest';
import { startTestApi, type TestApi } from '../api/app';

describe('GET /metrics on the API', () => {
  let open: TestApi;
  let guarded: TestApi;
  const token = 'scrape-token-0123456789';

  beforeAll(async () => {
    [open, guarded] = await Promise.all([startTestApi(), startTestApi({ metricsToken: token })]);
  });
  afterAll(async () => {
    await Promise.all([open?.app.close(), guarded?.app.close()]);
  });

  it('answers without a token when none is configured, and counts unmatched paths under one label', async () => {
    await request(open.server).get('/no/such/path/abc123').expect(404);
    const res = await request(open.server).get('/metrics').expect(200);
    expect(res.text).toMatch(/^runbooks_api_requests_total\{method="GET",route="unmatched",status="404"\} 1$/m);
    expect(res.text).not.toContain('abc123');
  });

  it('needs the bearer token when RUNBOOKS_METRICS_TOKEN is set: 401 without it or with another', async () => {
    await request(guarded.server).get('/metrics').expect(401);
    await request(guarded.server).get('/metrics').set('Authorization', 'Bearer scrape-token-wrong-value').expect(401);
    const res = await request(guarded.server).get('/metrics').set('Authorization', `Bearer ${token}`).expect(200);
    expect(res.text).toContain('# TYPE runbooks_api_requests_total counter');
  });

  it('is not an API route: the OpenAPI document does not list it', async () => {
    const doc = await request(open.server).get('/openapi.json').expect(200);
    expect(Object.keys(doc.body.paths)).not.toContain('/metrics');
  });
});
