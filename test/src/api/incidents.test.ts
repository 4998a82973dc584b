import request from 'supertest';
import { auth, startTestApi, type TestApi } from './app';

/** The incident catalogue through the API, and incident launches checked against it before Temporal is asked. */
let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => {
  await api?.app.close();
});

const CATALOG = '/v1/incidents/catalog';
const catalog = {
  services: [
    {
      name: 'erp',
      dnsName: 'erp.corp.test',
      port: 8080,
      url: 'http://erp.corp.test:8080/',
      primary: { address: '203.0.113.10' },
      standby: { address: '203.0.113.11' },
      failover: { host: 'dns-1', apply: '/usr/local/sbin/erp-to-standby', undo: '/usr/local/sbin/erp-to-primary' },
    },
  ],
  locations: [{ name: 'office', users: ['alice'], vantage: { gateway: { name: 'branch-router', address: '192.0.2.1' } } }],
  resolvers: [{ name: 'dns1', address: '203.0.113.53' }],
  devices: [{ name: 'branch-router', role: 'router', addresses: ['192.0.2.1'], uplink: true }],
};
const incident = (
  affected: Record<string, unknown> = { services: ['erp'], locations: ['office'] },
  extra: Record<string, unknown> = {},
) => ({
  runbook: 'incident-response',
  input: { title: 'ERP unreachable from the office', severity: 'P2', symptoms: 'Users cannot log in to the ERP.', affected, ...extra },
});

describe('incident catalogue and incident launches (API)', () => {
  it('is replaced by admins only and read by the support tiers, with an ETag that makes a stale write a 412', async () => {
    await request(api.server).put(CATALOG).set(auth('fran')).send(catalog).expect(403);
    const put = await request(api.server).put(CATALOG).set(auth('ada')).send(catalog).expect(200);
    expect(put.body).toMatchObject({ services: 1, locations: 1 });
    const read = await request(api.server).get(CATALOG).set(auth('fran')).expect(200);
    expect(read.body.services[0]).toMatchObject({ name: 'erp', standby: { address: '203.0.113.11' } });
    expect(read.body.severities.P1).toEqual({ approvers: 1, responseSeconds: 900, approvalSeconds: 900 });
    const stale = await request(api.server).put(CATALOG).set(auth('ada')).set('If-Match', '"0"').send(catalog);
    expect(stale.status).toBe(412);
  });

  it('refuses a catalogue with unknown fields, a failover without a standby or a duplicate name, naming each field', async () => {
    const bad = {
      ...catalog,
      surprise: true,
      services: [
        { ...catalog.services[0], standby: undefined },
        { ...catalog.services[0], failover: undefined },
      ],
    };
    const res = await request(api.server).put(CATALOG).set(auth('ada')).send(bad);
    expect(res.status).toBe(400);
    const paths = res.body.issues.map((i: { path: string }) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['services.0.standby', 'services.1.name']));
    expect(JSON.stringify(res.body.issues)).toMatch(/surprise/);
  });

  it('refuses an incident naming a service or location the catalogue lacks: 400 naming the field', async () => {
    await request(api.server).put(CATALOG).set(auth('ada')).send(catalog).expect(200);
    const res = await request(api.server)
      .post('/v1/runs')
      .set(auth('tess'))
      .send(incident({ services: ['erp', 'payroll'], locations: ['warehouse'] }));
    expect(res.status).toBe(400);
    expect(res.body.issues).toEqual([
      { path: 'input.affected.services.1', message: expect.stringMatching(/^payroll is not a service of the incident catalogue/) },
      { path: 'input.affected.locations.0', message: expect.stringMatching(/^warehouse is not a location of the incident catalogue/) },
    ]);
  });

  it('refuses a bad severity and unknown input fields, naming each', async () => {
    const res = await request(api.server)
      .post('/v1/runs')
      .set(auth('tess'))
      .send(incident(undefined, { severity: 'P0', pager: 'on' }));
    expect(res.status).toBe(400);
    const paths = res.body.issues.map((i: { path: string }) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['input.severity']));
    expect(JSON.stringify(res.body.issues)).toMatch(/pager/);
  });

  it('refuses incident mail to a domain the catalogue does not allow (400 naming input.notify[i]); its own domains and chat names pass', async () => {
    const withMail = { ...catalog, stakeholders: ['#erp', 'erp-owners@corp.test'], notifyDomains: ['partner.example'] };
    await request(api.server).put(CATALOG).set(auth('ada')).send(withMail).expect(200);
    const refused = await request(api.server)
      .post('/v1/runs')
      .set(auth('tess'))
      .send(incident(undefined, { notify: ['#ops', 'cfo@corp.test', 'someone@elsewhere.example', 'ops@partner.example'] }));
    expect(refused.status).toBe(400);
    expect(refused.body.issues).toEqual([
      {
        path: 'input.notify.2',
        message: expect.stringMatching(/^someone@elsewhere.example: incident mail goes only to the domains .*corp.test, partner.example/),
      },
    ]);
    const started = await request(api.server)
      .post('/v1/runs')
      .set(auth('tess'))
      .send(incident(undefined, { notify: ['#ops', 'cfo@corp.test', 'ops@partner.example'] }));
    expect(started.status).toBe(201);
    const badDomain = await request(api.server)
      .put(CATALOG)
      .set(auth('ada'))
      .send({ ...catalog, notifyDomains: ['not a domain'] });
    expect(badDomain.status).toBe(400);
    expect(badDomain.body.issues.map((i: { path: string }) => i.path)).toEqual(['notifyDomains.0']);
  });

  it('starts an incident whose names are all in the catalogue', async () => {
    await request(api.server).put(CATALOG).set(auth('ada')).send(catalog).expect(200);
    const res = await request(api.server).post('/v1/runs').set(auth('tess')).send(incident());
    expect(res.status).toBe(201);
    expect(res.body.runId).toEqual(expect.any(String));
  });
});
