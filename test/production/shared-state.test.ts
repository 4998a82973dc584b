import type { ChangeFreeze, PreApproval } from '@runbooks/contracts';
import { randomBytes } from 'node:crypto';
import { TOKENS, callApi } from './stack';

/**
 * State outside Temporal is shared by every API replica through the store on PostgreSQL: writes
 * sent to both replicas at once are all kept, and each replica sees what the other wrote.
 */
const suffix = randomBytes(4).toString('hex');
const scheduleId = `pf-weekly-patch-${suffix}`;
const freezeNames = Array.from({ length: 20 }, (_, i) => `pf-freeze-${suffix}-${i}`);
/** Replica A for even writes, B for odd ones; read back through the other. */
const writer = (i: number): 'A' | 'B' => (i % 2 === 0 ? 'A' : 'B');

afterAll(async () => {
  await callApi('A', 'DELETE', `/v1/schedules/${scheduleId}`, TOKENS.scheduler);
  for (const name of freezeNames) await callApi('B', 'DELETE', `/v1/maintenance/freezes/${name}`, TOKENS.scheduler);
});

test('20 approvals given ahead, sent to both API replicas at once, are all kept and seen by both', async () => {
  // A schedule whose runs fire on Sundays at 01:00 Berlin time: none fires during the test.
  const created = await callApi('A', 'POST', '/v1/schedules', TOKENS.scheduler, {
    id: scheduleId,
    runbook: 'security-patching',
    input: { targets: { tags: ['lab'] }, patches: [{ package: 'openssl', version: '3.0.15' }], waves: ['rest'], bakeSeconds: 0 },
    spec: { cron: ['0 1 * * 0'], timezone: 'Europe/Berlin' },
    paused: true,
  });
  expect(created.status).toBe(201);

  const given = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      callApi<PreApproval>(writer(i), 'POST', `/v1/schedules/${scheduleId}/pre-approvals`, TOKENS.approver, {
        gateId: 'approve-production',
        comment: `approval ${i} through replica ${writer(i)}`,
      }),
    ),
  );
  expect(given.map((g) => g.status)).toEqual(Array(20).fill(201));
  const ids = given.map((g) => g.body.id);
  expect(new Set(ids).size).toBe(20);

  for (const replica of ['A', 'B'] as const) {
    const listed = await callApi<{ preApprovals: PreApproval[] }>(
      replica,
      'GET',
      `/v1/schedules/${scheduleId}/pre-approvals`,
      TOKENS.technician,
    );
    expect(listed.status).toBe(200);
    expect(listed.body.preApprovals.map((p) => p.id).sort()).toEqual([...ids].sort());
    // Each one as it was written, whichever replica wrote it.
    for (const [i, g] of given.entries()) {
      expect(listed.body.preApprovals.find((p) => p.id === g.body.id)).toMatchObject({
        by: 'alex',
        gateId: 'approve-production',
        comment: `approval ${i} through replica ${writer(i)}`,
      });
    }
  }
});

test('20 change freezes, written through both API replicas at once, are all kept and seen by both', async () => {
  // Far in the future, so they hold no run of another test.
  const periodOf = (i: number) => ({
    from: `2099-01-${String(i + 1).padStart(2, '0')}T00:00:00.000Z`,
    to: `2099-01-${String(i + 2).padStart(2, '0')}T00:00:00.000Z`,
    reason: `freeze ${i} through replica ${writer(i)}`,
  });
  const written = await Promise.all(
    freezeNames.map((name, i) =>
      callApi(writer(i), 'PUT', `/v1/maintenance/freezes/${name}`, TOKENS.scheduler, { periods: [periodOf(i)] }),
    ),
  );
  expect(written.map((w) => w.status)).toEqual(Array(20).fill(200));

  for (const replica of ['A', 'B'] as const) {
    const calendar = await callApi<{ freezes: ChangeFreeze[] }>(replica, 'GET', '/v1/maintenance', TOKENS.technician);
    expect(calendar.status).toBe(200);
    const ours = calendar.body.freezes.filter((f) => freezeNames.includes(f.name));
    expect(ours.map((f) => f.name).sort()).toEqual([...freezeNames].sort());
    for (const [i, name] of freezeNames.entries()) {
      if (writer(i) === replica) continue; // read back through the replica that did not write it
      expect(ours.find((f) => f.name === name)?.periods).toEqual([periodOf(i)]);
    }
  }
});

test('a token created through the admin API works on both replicas, and once revoked through replica A is refused by both', async () => {
  const created = await callApi<{ id: string; token: string; principalId: string }>('A', 'POST', '/v1/admin/tokens', TOKENS.admin, {
    principalId: 'tess',
    label: `production suite ${suffix}`,
  });
  expect(created.status).toBe(201);
  expect(created.body.principalId).toBe('tess');
  const { id, token } = created.body;
  for (const replica of ['A', 'B'] as const) {
    expect((await callApi(replica, 'GET', '/v1/runbooks', token)).status).toBe(200);
  }

  const revoked = await callApi<{ id: string; revokedAt?: string }>('A', 'DELETE', `/v1/admin/tokens/${id}`, TOKENS.admin);
  expect(revoked.status).toBe(200);
  expect(revoked.body).toMatchObject({ id, revokedAt: expect.any(String) });
  for (const replica of ['B', 'A'] as const) {
    expect((await callApi(replica, 'GET', '/v1/runbooks', token)).status).toBe(401);
  }
  // The demo token of the same principal is untouched.
  expect((await callApi('B', 'GET', '/v1/runbooks', TOKENS.technician)).status).toBe(200);
});
