import { CalendarStore, LabFleet, PreApprovalStore } from '@runbooks/activities';
import type { Host } from '@runbooks/contracts';
import { Store, type StoreLocation } from '@runbooks/store';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { auth, startTestApi, type TestApi } from '../api/app';
import { STORE_BACKENDS, closeStores, openStore } from '../harness/stores';

/**
 * The shared state as two replicas see it (two store instances: two processes' connections),
 * on SQLite and on PostgreSQL. Each of these lost writes or applied twice with the JSON files.
 */
describe.each(STORE_BACKENDS)('shared state through two replicas on $name', ({ freshLocation }) => {
  let location: StoreLocation;
  let dir: string;
  beforeEach(async () => {
    location = await freshLocation();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shared-state-'));
  });
  afterEach(async () => {
    await closeStores();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const given = (i: number) => ({
    scheduleId: 'weekly',
    gateId: 'approve-production',
    inputSha256: 'a1'.repeat(32),
    by: `approver-${i}`,
    displayName: `Approver ${i}`,
    comment: '',
  });

  it('keeps all of 20 approvals given ahead written at once through two instances', async () => {
    const [a, b] = [new PreApprovalStore(openStore(location)), new PreApprovalStore(openStore(location))];
    await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).add(given(i))));
    expect((await a.list('weekly')).map((p) => p.by).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `approver-${i}`).sort());
  });

  it('keeps all of 20 freezes written at once through two instances', async () => {
    const [a, b] = [new CalendarStore(openStore(location)), new CalendarStore(openStore(location))];
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? a : b).putFreeze({ name: `freeze-${i}`, periods: [{ from: '2027-01-01T00:00:00Z', to: '2027-01-02T00:00:00Z' }] }),
      ),
    );
    expect((await b.read()).freezes.map((f) => f.name).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `freeze-${i}`).sort());
  });

  it('lets one of two runs claiming the same approval given ahead at once use it, once', async () => {
    const [a, b] = [new PreApprovalStore(openStore(location)), new PreApprovalStore(openStore(location))];
    const approval = await a.add(given(1));
    const claim = (store: PreApprovalStore, runId: string) =>
      store.claim({
        scheduleId: 'weekly',
        gateId: 'approve-production',
        fireTime: new Date().toISOString(),
        inputSha256: 'a1'.repeat(32),
        runId,
      });

    const [first, second] = await Promise.all([claim(a, 'run-a'), claim(b, 'run-b')]);

    expect([first.approvals.length, second.approvals.length].sort()).toEqual([0, 1]);
    const [stored] = await b.list('weekly');
    expect(stored.id).toBe(approval.id);
    expect(['run-a', 'run-b']).toContain(stored.consumedBy);
    // The winner's retried claim gets the same answer; the loser's still gets none.
    expect((await claim(a, stored.consumedBy!)).approvals).toHaveLength(1);
    expect((await claim(b, stored.consumedBy === 'run-a' ? 'run-b' : 'run-a')).approvals).toHaveLength(0);
    const audit = await openStore(location).audit.list({ limit: 10, action: 'preApproval.use' });
    expect(audit).toEqual([
      expect.objectContaining({
        actor: 'system',
        target: stored.consumedBy,
        detail: expect.objectContaining({ preApprovalId: approval.id }),
      }),
    ]);
  });

  it('applies a host-operation key once when two workers apply it at the same moment', async () => {
    const root = path.join(dir, 'lab');
    const web: Host = { name: 'web-1', address: 'web-1', osFamily: 'lab', tags: [], driver: 'lab' };
    const [a, b] = [new LabFleet(root, openStore(location)), new LabFleet(root, openStore(location))];
    await a.seed([{ name: 'web-1', packages: { openssl: '3.0.1' } }]);
    const patches = [{ package: 'openssl', version: '3.0.2' }];

    const results = await Promise.all([a.patch(web, patches, 'run-1/patch/web-1'), b.patch(web, patches, 'run-1/patch/web-1')]);

    expect(results[0]).toEqual(results[1]);
    expect(results[0].changed).toEqual([{ package: 'openssl', from: '3.0.1', to: '3.0.2' }]);
    expect((await b.ledger()).filter((e) => e.op === 'patch')).toHaveLength(1);
    expect(Object.keys((await a.readHost('web-1')).applied ?? {})).toEqual(['patch run-1/patch/web-1']);
  });

  it('keeps one first-seen SSH host key when two workers meet a host at the same moment with different keys', async () => {
    const [a, b] = [openStore(location), openStore(location)];

    const [seenByA, seenByB] = await Promise.all([
      a.knownHostKeys.remember('web-1', 'key-shown-to-a'),
      b.knownHostKeys.remember('web-1', 'key-shown-to-b'),
    ]);

    expect(seenByA).toBe(seenByB);
    expect(['key-shown-to-a', 'key-shown-to-b']).toContain(seenByA);
    expect(await a.knownHostKeys.remember('web-1', 'a-later-key')).toBe(seenByA);
  });
});

describe.each(STORE_BACKENDS)('two API replicas on one $name store', ({ freshLocation }) => {
  let replicas: TestApi[];
  beforeAll(async () => {
    const store = await freshLocation();
    replicas = [await startTestApi({ store }), await startTestApi({ store })];
  });
  afterAll(async () => {
    for (const api of replicas ?? []) await api.app.close();
  });
  const host = (name: string) => ({ name, address: `${name}.example.test`, osFamily: 'lab', driver: 'lab', tags: ['lab'] });

  it('answers 412 to an inventory PUT whose If-Match another replica made stale, and keeps the other write', async () => {
    const [a, b] = replicas.map((r) => r.server);
    const read = await request(a).get('/v1/inventory').set(auth('ada')).expect(200);
    const etag = read.headers.etag as string;
    const won = await request(b)
      .put('/v1/inventory')
      .set(auth('ada'))
      .set('If-Match', etag)
      .send({ hosts: [host('b-1')] })
      .expect(200);
    expect(won.headers.etag).not.toBe(etag);

    const stale = await request(a)
      .put('/v1/inventory')
      .set(auth('ada'))
      .set('If-Match', etag)
      .send({ hosts: [host('a-1')] })
      .expect(412);

    expect(stale.body.message).toMatch(/changed since you read it/);
    const now = await request(a).get('/v1/inventory').set(auth('tess')).expect(200);
    expect(now.body.hosts.map((h: { name: string }) => h.name)).toEqual(['b-1']);
    expect(now.headers.etag).toBe(won.headers.etag);
    await request(a).put('/v1/inventory').set(auth('ada')).set('If-Match', 'not-an-etag').send({ hosts: [] }).expect(400);
  });

  it('answers 412 to a calendar write whose If-Match is stale, and keeps 20 freezes written across both replicas', async () => {
    const [a, b] = replicas.map((r) => r.server);
    const etag = (await request(a).get('/v1/maintenance').set(auth('sam')).expect(200)).headers.etag as string;
    const freeze = { periods: [{ from: '2027-01-01T00:00:00Z', to: '2027-01-02T00:00:00Z' }] };
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        request(i % 2 ? a : b)
          .put(`/v1/maintenance/freezes/f-${i}`)
          .set(auth('sam'))
          .send(freeze)
          .expect(200),
      ),
    );
    await request(a).put('/v1/maintenance/freezes/late').set(auth('sam')).set('If-Match', etag).send(freeze).expect(412);
    await request(b).delete('/v1/maintenance/freezes/f-1').set(auth('sam')).set('If-Match', etag).expect(412);
    const calendar = await request(b).get('/v1/maintenance').set(auth('tess')).expect(200);
    expect(calendar.body.freezes.map((f: { name: string }) => f.name).sort()).toEqual(
      Array.from({ length: 20 }, (_, i) => `f-${i}`).sort(),
    );
  });

  it('refuses a token revoked through one replica on the other, at its next request', async () => {
    const [a, b] = replicas.map((r) => r.server);
    const created = await request(a)
      .post('/v1/admin/tokens')
      .set(auth('ada'))
      .send({ principalId: 'ci-bot', label: 'pipeline', principal: { displayName: 'CI bot', roles: ['technician'] } })
      .expect(201);
    const bot = { Authorization: `Bearer ${created.body.token}` };
    await request(b).get('/v1/inventory').set(bot).expect(200);
    const listed = await request(b).get('/v1/admin/tokens?principalId=ci-bot').set(auth('ada')).expect(200);
    expect(listed.body.tokens).toEqual([expect.objectContaining({ id: created.body.id, label: 'pipeline', revokedAt: null })]);
    expect(JSON.stringify(listed.body)).not.toContain(created.body.token);

    await request(b).delete(`/v1/admin/tokens/${created.body.id}`).set(auth('ada')).expect(200);

    await request(a).get('/v1/inventory').set(bot).expect(401);
    await request(b).get('/v1/inventory').set(bot).expect(401);
    await request(a).post('/v1/admin/tokens').set(auth('tess')).send({ principalId: 'tess', label: 'mine' }).expect(403);
  });

  it('serves the report a run stored at its end once Temporal no longer has the run', async () => {
    const [a] = replicas;
    const runId = `data-restore-gone-${Date.now()}`;
    const state = {
      runId,
      runbook: 'data-restore',
      title: 'Data restore',
      requestedBy: { id: 'tess', displayName: 'Tess' },
      requestedAt: '2026-01-01T00:00:00.000Z',
      status: 'succeeded',
      input: {},
      steps: [],
      gates: [],
      compensations: [],
    };
    await request(a.server).get(`/v1/runs/${runId}/report`).set(auth('tess')).expect(404);
    await a.app.get(Store).reports.put(runId, 'temporal-run-id', JSON.stringify(state));

    const markdown = await request(replicas[1].server).get(`/v1/runs/${runId}/report`).set(auth('tess')).expect(200);
    expect(markdown.text).toContain(`# Data restore: ${runId}`);
    const json = await request(replicas[1].server)
      .get(`/v1/runs/${runId}/report`)
      .set(auth('tess'))
      .set('Accept', 'application/json')
      .expect(200);
    expect(json.body.report).toEqual(state);
  });

  it('logs every write once in the audit log, done or refused (a 400 of validation too, with its status and reason), none for callers the guard refuses, paged newest first for admins only', async () => {
    const [a, b] = replicas.map((r) => r.server);
    await request(a)
      .put('/v1/maintenance/windows/audited')
      .set(auth('sam'))
      .send({ opens: '0 1 * * 0', timezone: 'UTC', durationSeconds: 60 })
      .expect(200);
    await request(b)
      .put('/v1/maintenance/windows/audited')
      .set(auth('sam'))
      .set('If-Match', '"0"')
      .send({ opens: '0 1 * * 0', timezone: 'UTC', durationSeconds: 60 })
      .expect(412);

    const page = await request(b).get('/v1/audit?actor=sam&action=putMaintenanceWindow&pageSize=1').set(auth('ada')).expect(200);
    expect(page.body.entries).toEqual([
      expect.objectContaining({
        actor: 'sam',
        action: 'putMaintenanceWindow',
        target: '/v1/maintenance/windows/audited',
        detail: expect.objectContaining({ outcome: 'refused', status: 412 }),
      }),
    ]);
    const next = await request(a)
      .get(`/v1/audit?actor=sam&action=putMaintenanceWindow&pageSize=1&pageToken=${page.body.nextPageToken}`)
      .set(auth('ada'))
      .expect(200);
    expect(next.body.entries[0].detail).toMatchObject({ outcome: 'done', status: 200, body: { durationSeconds: 60 } });
    // Exactly one entry per write: the success above left one, the 412 one.
    const both = await request(a).get('/v1/audit?actor=sam&action=putMaintenanceWindow').set(auth('ada')).expect(200);
    expect(both.body.entries).toHaveLength(2);

    // A body the route's schema refuses is audited as refused, with the 400 and the field its caller read.
    const invalid = await request(b)
      .put('/v1/maintenance/windows/audited-invalid')
      .set(auth('sam'))
      .send({ opens: '0 1 * * 0', timezone: 'UTC', durationSeconds: 60, colour: 'red' })
      .expect(400);
    const refused = await request(a).get('/v1/audit?target=/v1/maintenance/windows/audited-invalid').set(auth('ada')).expect(200);
    expect(refused.body.entries).toEqual([
      expect.objectContaining({
        actor: 'sam',
        action: 'putMaintenanceWindow',
        detail: expect.objectContaining({ outcome: 'refused', status: 400, reason: invalid.body.message }),
      }),
    ]);
    expect(invalid.body.message).toMatch(/colour/);
    // A caller the guard refuses (no role for the route, or no token) leaves no entry: nothing was attempted.
    await request(a).put('/v1/maintenance/windows/not-yours').set(auth('tess')).send({}).expect(403);
    await request(a).put('/v1/maintenance/windows/not-yours').send({}).expect(401);
    const none = await request(b).get('/v1/audit?target=/v1/maintenance/windows/not-yours').set(auth('ada')).expect(200);
    expect(none.body.entries).toEqual([]);
    await request(a).get('/v1/audit').set(auth('sam')).expect(403);
    await request(a).get('/v1/audit?color=red').set(auth('ada')).expect(400);
  });
});
