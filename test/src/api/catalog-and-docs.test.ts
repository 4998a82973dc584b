import { RUNBOOKS, dataRestoreRunbook } from '@runbooks/contracts';
import request from 'supertest';
import { auth, startTestApi, type TestApi } from './app';

let api: TestApi;

beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => {
  await api?.app.close();
});

/** The routes Express actually serves, as "METHOD /path" in OpenAPI path syntax. */
function servedRoutes(): string[] {
  const router = (
    api.app.getHttpAdapter().getInstance() as { router: { stack: { route?: { path: string; methods: Record<string, boolean> } }[] } }
  ).router;
  return router.stack
    .flatMap((layer) => (layer.route ? Object.keys(layer.route.methods).map((m) => `${m.toUpperCase()} ${layer.route!.path}`) : []))
    .map((r) => r.replace(/:([A-Za-z0-9_]+)/g, '{$1}'))
    .sort();
}

describe('catalog', () => {
  it('lists every runbook with its steps and its input as JSON Schema', async () => {
    const res = await request(api.server).get('/v1/runbooks').set(auth('sam')).expect(200);
    expect(res.body.runbooks.map((r: { name: string }) => r.name)).toEqual(RUNBOOKS.map((r) => r.name));
    const restore = res.body.runbooks[0];
    expect(restore).toMatchObject({
      name: 'data-restore',
      title: dataRestoreRunbook.title,
      workflowType: 'dataRestore',
      steps: dataRestoreRunbook.steps.map((s) => ({ id: s.id, title: s.title })),
    });
    expect(restore.inputSchema.type).toBe('object');
    expect(restore.inputSchema.required).toEqual(expect.arrayContaining(['repository', 'path', 'target', 'affectedUsers']));
    expect(restore.inputSchema.properties.repository.properties.passwordRef.pattern).toContain('secret:');
    // io 'input': fields with defaults are optional for the caller.
    expect(restore.inputSchema.required).not.toContain('approval');
  });

  it('describes one runbook by name, and answers 404 naming an unknown one', async () => {
    const res = await request(api.server).get('/v1/runbooks/data-restore').set(auth('tess')).expect(200);
    expect(res.body.name).toBe('data-restore');
    const missing = await request(api.server).get('/v1/runbooks/patch-the-moon').set(auth('tess')).expect(404);
    expect(missing.body.message).toContain('patch-the-moon');
  });
});

describe('OpenAPI document', () => {
  it('is OpenAPI 3.1 and lists exactly the routes the server serves', async () => {
    const res = await request(api.server).get('/openapi.json').expect(200);
    expect(res.body.openapi).toBe('3.1.0');
    const documented = Object.entries(res.body.paths as Record<string, Record<string, unknown>>)
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
      .sort();
    // /metrics is Prometheus' scrape endpoint, not part of the API (apps/api/README.md "Metrics").
    expect(documented).toEqual(servedRoutes().filter((route) => route !== 'GET /metrics'));
    expect(documented).toEqual(
      expect.arrayContaining(['POST /v1/runs', 'GET /v1/runs/{id}/report', 'POST /v1/runs/{id}/approvals/{gateId}', 'GET /v1/approvals']),
    );
  });

  it('documents the same constraints the API enforces (from the shared zod schemas)', async () => {
    const { body } = await request(api.server).get('/openapi.json').expect(200);
    const list = body.paths['/v1/runs'].get;
    const pageSize = list.parameters.find((p: { name: string }) => p.name === 'pageSize');
    expect(pageSize).toMatchObject({ in: 'query', required: false, schema: { minimum: 1, maximum: 100, default: 20 } });
    const launch = body.paths['/v1/runs'].post;
    const launchBodies = launch.requestBody.content['application/json'].schema.oneOf;
    expect(launchBodies[0].properties.idempotencyKey).toMatchObject({
      maxLength: 200,
      pattern: '^[A-Za-z0-9._:-]+$',
    });
    expect(launch.responses['400'].content['application/json'].schema.properties.issues).toBeDefined();
    expect(launch['x-access']).toEqual({ anyRole: ['technician'] });
    const decide = body.paths['/v1/runs/{id}/approvals/{gateId}'].post;
    expect(decide.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`)).toEqual(['path:id', 'path:gateId']);
    expect(body.paths['/healthz'].get.security).toEqual([]);
    expect(body.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it("gives each runbook's input schema in the launch and schedule bodies, one per runbook (a union on runbook)", async () => {
    const { body } = await request(api.server).get('/openapi.json').expect(200);
    for (const path of ['/v1/runs', '/v1/schedules']) {
      const bodies = body.paths[path].post.requestBody.content['application/json'].schema.oneOf;
      expect(bodies.map((b: { properties: { runbook: { const: string } } }) => b.properties.runbook.const)).toEqual(
        RUNBOOKS.map((r) => r.name),
      );
      const [restore, patching] = bodies.map((b: { properties: { input: Record<string, unknown> } }) => b.properties.input);
      expect(restore).toMatchObject({ additionalProperties: false, required: expect.arrayContaining(['repository', 'target']) });
      expect(restore.properties.repository.properties.passwordRef.pattern).toContain('secret:');
      expect(patching).toMatchObject({ additionalProperties: false, required: expect.arrayContaining(['targets', 'patches']) });
    }
  });

  it('serves a browsable UI at /docs with its own assets (no CDN)', async () => {
    await request(api.server).get('/docs').expect(301).expect('Location', '/docs/');
    const page = await request(api.server).get('/docs/').expect(200);
    expect(page.text).toContain('swagger-ui');
    expect(page.text).not.toMatch(/https?:\/\/(cdn|unpkg|cdnjs)/);
    await request(api.server)
      .get('/docs/swagger-ui-bundle.js')
      .expect(200)
      .expect('Content-Type', /javascript/);
    const init = await request(api.server).get('/docs/swagger-ui-init.js').expect(200);
    expect(init.text).toContain('/v1/runs');
  });
});
