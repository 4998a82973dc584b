import { StaleVersionError, type StoreLocation } from '@runbooks/store';
import { Migrator } from 'kysely';
import { storeMigrations } from '../../../libs/store/src/migrations';
import { STORE_BACKENDS, closeStores, openStore } from '../harness/stores';

/** The store's repositories, on SQLite and on PostgreSQL, each seen through two instances (two processes). */
describe.each(STORE_BACKENDS)('store on $name', ({ freshLocation }) => {
  let location: StoreLocation;
  beforeEach(async () => {
    location = await freshLocation();
  });
  afterEach(closeStores);

  it('migrates once when several instances start at the same moment, and again is a no-op', async () => {
    const stores = Array.from({ length: 4 }, () => openStore(location));
    const applied = await Promise.all(stores.map((s) => s.migrate()));
    // Every migration once, in name order (branches reserve their numbers and land in any order).
    expect(applied.flat()).toEqual(Object.keys(await storeMigrations.getMigrations()).sort());
    expect(applied.flat()).toEqual(expect.arrayContaining(['0001-shared-state', '0002-restore-target-policy', '0006-incidents']));
    expect(await stores[0].migrate()).toEqual([]);
    expect(await stores[1].inventory.version()).toEqual({ version: 0, updatedAt: null });
  });

  it('refuses an inventory write carrying a stale version, and keeps the newer one', async () => {
    const [a, b] = [openStore(location), openStore(location)];
    const v1 = await a.inventory.replace([{ name: 'h1', body: '{"name":"h1"}' }]);
    expect(v1.version).toBe(1);
    await b.inventory.replace([{ name: 'h2', body: '{"name":"h2"}' }], v1.version);
    await expect(a.inventory.replace([{ name: 'h3', body: '{"name":"h3"}' }], v1.version)).rejects.toThrow(StaleVersionError);
    const read = await a.inventory.read();
    expect(read.version).toBe(2);
    expect(read.hosts).toEqual(['{"name":"h2"}']);
    expect(await b.inventory.get('h2')).toBe('{"name":"h2"}');
  });

  it('replaces the restore target policy as a whole, refusing a write carrying a stale version', async () => {
    const [a, b] = [openStore(location), openStore(location)];
    expect(await a.restoreTargets.read()).toEqual({ version: 0, updatedAt: null, rules: [] });
    const v1 = await a.restoreTargets.replace([
      { repository: 'r1', body: '{"repository":"r1"}' },
      { repository: 'r2', body: '{"repository":"r2"}' },
    ]);
    await b.restoreTargets.replace([{ repository: 'r3', body: '{"repository":"r3"}' }], v1.version);
    await expect(a.restoreTargets.replace([], v1.version)).rejects.toThrow(StaleVersionError);
    expect(await a.restoreTargets.read()).toMatchObject({ version: 2, rules: ['{"repository":"r3"}'] });
  });

  it('writes each asset under its own version: creates once, refuses a stale version, lists by host', async () => {
    const [a, b] = [openStore(location), openStore(location)];
    expect(await a.assets.put('AT-1', 'h1', '{"v":1}', 0)).toMatchObject({ tag: 'AT-1', version: 1 });
    await expect(b.assets.put('AT-1', 'h1', '{"v":"again"}', 0)).rejects.toThrow(StaleVersionError);
    const writes = await Promise.allSettled([a.assets.put('AT-1', 'h1', '{"v":2}', 1), b.assets.put('AT-1', 'h1', '{"v":"b"}', 1)]);
    expect(writes.map((w) => w.status).sort()).toEqual(['fulfilled', 'rejected']);
    await b.assets.put('AT-2', 'h2', '{"v":1}');
    expect(await b.assets.get('AT-1')).toMatchObject({ version: 2 });
    expect((await a.assets.list('h2')).map((r) => r.tag)).toEqual(['AT-2']);
    expect((await a.assets.list()).map((r) => r.tag)).toEqual(['AT-1', 'AT-2']);
  });

  it('keeps all of 20 freezes written at once through two instances, each a new calendar version', async () => {
    const [a, b] = [openStore(location), openStore(location)];
    await Promise.all([a.ready(), b.ready()]);
    const versions = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).calendar.put('freeze', `f${i}`, JSON.stringify({ name: `f${i}` }))),
    );
    expect(new Set(versions.map((v) => v.version)).size).toBe(20);
    const calendar = await a.calendar.read();
    expect(calendar.freezes.map((f) => JSON.parse(f).name).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `f${i}`).sort());
    expect(calendar.version).toBe(20);
  });

  it('removes a calendar entry once; removing a missing one changes no version', async () => {
    const store = openStore(location);
    await store.calendar.put('window', 'w', '{}');
    expect(await store.calendar.remove('window', 'w')).toMatchObject({ existed: true, version: 2 });
    expect(await store.calendar.remove('window', 'w')).toMatchObject({ existed: false, version: 2 });
    await expect(store.calendar.remove('window', 'w', 1)).rejects.toThrow(StaleVersionError);
  });

  it('lets exactly one of two instances claim an approval given ahead', async () => {
    const [a, b] = [openStore(location), openStore(location)];
    await a.preApprovals.add({ id: 'p1', scheduleId: 's', gateId: 'g', at: new Date().toISOString(), body: '{}' });
    await b.ready();
    const won = await Promise.all([a.preApprovals.claim('p1', 'run-a', null), b.preApprovals.claim('p1', 'run-b', null)]);
    expect(won.filter(Boolean)).toHaveLength(1);
    const [row] = await b.preApprovals.list({ scheduleId: 's' });
    expect(row.consumedBy).toBe(won[0] ? 'run-a' : 'run-b');
  });

  it('lets exactly one of two instances claim a host-operation key; a dead claim is taken over once', async () => {
    const [a, b] = [openStore(location), openStore(location)];
    await Promise.all([a.ready(), b.ready()]);
    const id = { scope: 'lab', host: 'h', op: 'patch', key: 'k' };
    const past = new Date(Date.now() - 1000).toISOString();
    const claims = await Promise.all([a.operations.claim(id, 'a', past), b.operations.claim(id, 'b', past)]);
    expect(claims.filter(Boolean)).toHaveLength(1);
    const seen = (await a.operations.find(id))!;
    const later = new Date(Date.now() + 60_000).toISOString();
    const takers = await Promise.all([a.operations.takeOver(seen, 'a2', later), b.operations.takeOver(seen, 'b2', later)]);
    expect(takers.filter(Boolean)).toHaveLength(1);
    const taken = (await b.operations.find(id))!;
    expect(taken.attempt).toBe(2);
    // The first owner lost its claim: its late result is not recorded.
    expect(await a.operations.record(id, seen.owner, seen.attempt, '"late"')).toBe(false);
    expect(await a.operations.record(id, taken.owner, taken.attempt, '"done"')).toBe(true);
    expect((await b.operations.applied('lab')).map((r) => r.result)).toEqual(['"done"']);
  });

  it('imports a legacy source once, whichever instance gets there first', async () => {
    const [a, b] = [openStore(location), openStore(location)];
    const did = await Promise.all(
      [a, b].map((s, i) =>
        s.importOnce('data/pre-approvals.json', (trx) =>
          s.preApprovals.add({ id: `imported-${i}`, scheduleId: 's', gateId: 'g', at: new Date().toISOString(), body: '{}' }, trx),
        ),
      ),
    );
    expect(did.filter(Boolean)).toHaveLength(1);
    expect(await a.preApprovals.list()).toHaveLength(1);
  });

  it('refuses a revoked token at once, from another instance', async () => {
    const [a, b] = [openStore(location), openStore(location)];
    await a.principals.putPrincipal('alex', '{"id":"alex"}');
    const token = await a.principals.addToken({ principalId: 'alex', tokenSha256: 'ab'.repeat(32), label: 'ci', createdBy: 'ada' });
    expect(await b.principals.authenticate('ab'.repeat(32))).toBe('{"id":"alex"}');
    expect((await a.principals.revoke(token.id, 'ada'))?.revokedBy).toBe('ada');
    expect(await b.principals.authenticate('ab'.repeat(32))).toBeUndefined();
  });

  it('pages the audit log newest first, with filters', async () => {
    const store = openStore(location);
    for (let i = 0; i < 5; i++)
      await store.audit.append({ actor: i % 2 ? 'alex' : 'tess', action: 'run.launch', target: `r${i}`, detail: { i } });
    const first = await store.audit.list({ limit: 2 });
    expect(first.map((e) => e.target)).toEqual(['r4', 'r3']);
    const next = await store.audit.list({ limit: 2, after: first[1] });
    expect(next.map((e) => e.target)).toEqual(['r2', 'r1']);
    expect((await store.audit.list({ limit: 10, actor: 'alex' })).map((e) => e.detail)).toEqual([{ i: 3 }, { i: 1 }]);
  });

  it('keeps one report per run, the last written, and serves it back', async () => {
    const store = openStore(location);
    expect(await store.reports.put('wf', 'run1', '{"a":1}')).toBe(true);
    expect(await store.reports.put('wf', 'run1', '{"a":2}')).toBe(false);
    expect(await store.reports.get('wf')).toMatchObject({ runId: 'run1', body: '{"a":2}' });
    expect(await store.reports.get('other')).toBeUndefined();
  });

  it("counts each runbook's runs failed since its last success, whichever instance wrote the reports", async () => {
    const [a, b] = [openStore(location), openStore(location)];
    const FAILED = ['failed'] as const;
    const SUCCEEDED = ['succeeded', 'succeeded_with_warnings'] as const;
    let n = 0;
    /** One report a millisecond or more after the one before, so report times never tie. */
    const ended = async (runbook: string, outcome: string) => {
      await new Promise((resolve) => setTimeout(resolve, 2));
      await (n % 2 ? a : b).reports.put(`run-${++n}`, 'r', '{}', { runbook, outcome });
    };
    await ended('data-restore', 'failed');
    await ended('data-restore', 'succeeded');
    await ended('data-restore', 'failed');
    await ended('data-restore', 'rejected'); // neither a failure nor a success
    await ended('data-restore', 'failed');
    await ended('security-patching', 'failed');
    await ended('security-patching', 'succeeded_with_warnings');
    await ended('password-reset', 'failed');
    await ended('password-reset', 'failed');
    await ended('password-reset', 'failed');
    await a.reports.put('before-outcomes', 'r', '{}'); // a report without runbook and outcome counts for none
    const byRunbook = async () => Object.fromEntries((await b.reports.failingInARow(FAILED, SUCCEEDED)).map((r) => [r.runbook, r.count]));
    expect(await byRunbook()).toEqual({ 'data-restore': 2, 'password-reset': 3 });
    await ended('password-reset', 'succeeded');
    expect(await byRunbook()).toEqual({ 'data-restore': 2 });
    // A retried report (the same run written again) is still one run, in its place: run-1 failed
    // before data-restore's success and still counts for none, however late it is written again.
    await a.reports.put('run-5', 'r', '{}', { runbook: 'data-restore', outcome: 'failed' });
    await new Promise((resolve) => setTimeout(resolve, 2));
    await b.reports.put('run-1', 'r', '{}', { runbook: 'data-restore', outcome: 'failed' });
    expect(await byRunbook()).toEqual({ 'data-restore': 2 });
    // The same workflow id naming another run (an idempotency key reused): that run ended now.
    await new Promise((resolve) => setTimeout(resolve, 2));
    await a.reports.put('run-1', 'another-run', '{}', { runbook: 'data-restore', outcome: 'failed' });
    expect(await byRunbook()).toEqual({ 'data-restore': 3 });
  });

  it('labels reports written before the store kept runbook and outcome from their own bodies when upgraded', async () => {
    const old = openStore(location);
    // The store as it was at 0014: the columns exist, and this release's writes had not filled them.
    const migrator = new Migrator({ db: old.db, provider: storeMigrations, allowUnorderedMigrations: true });
    const to0014 = await migrator.migrateTo('0014-report-outcomes');
    expect(to0014.error).toBeUndefined();
    const at = (i: number) => `2026-11-0${i}T00:00:00.000Z`;
    const rows = [
      { workflow_id: 'old-1', body: JSON.stringify({ runId: 'old-1', runbook: 'data-restore', status: 'failed' }) },
      { workflow_id: 'old-2', body: JSON.stringify({ runId: 'old-2', runbook: 'data-restore', status: 'failed' }) },
      { workflow_id: 'old-3', body: JSON.stringify({ runId: 'old-3', runbook: 'security-patching', status: 'succeeded' }) },
      { workflow_id: 'old-4', body: '{"runId":"old-4"}' }, // names neither
      { workflow_id: 'old-5', body: 'not json' },
    ];
    await old.db
      .insertInto('run_reports')
      .values(rows.map((r, i) => ({ ...r, run_id: 'r', created_at: at(i + 1) })))
      .execute();
    // A page boundary is crossed: more unlabelled reports than one page of the backfill.
    await old.db
      .insertInto('run_reports')
      .values(
        Array.from({ length: 450 }, (_, i) => ({
          workflow_id: `page-${String(i).padStart(3, '0')}`,
          run_id: 'r',
          created_at: at(6),
          body: JSON.stringify({ runbook: 'password-reset', status: i % 2 ? 'failed' : 'cancelled' }),
        })),
      )
      .execute();

    const upgraded = openStore(location);
    expect(await upgraded.migrate()).toContain('0015-report-outcomes-backfill');
    expect(await upgraded.reports.get('old-1')).toMatchObject({ runbook: 'data-restore', outcome: 'failed' });
    expect(await upgraded.reports.get('old-3')).toMatchObject({ runbook: 'security-patching', outcome: 'succeeded' });
    expect(await upgraded.reports.get('old-4')).not.toHaveProperty('runbook');
    expect(await upgraded.reports.get('old-5')).not.toHaveProperty('outcome');
    expect(await upgraded.reports.get('page-449')).toMatchObject({ runbook: 'password-reset', outcome: 'failed' });
    const failing = await upgraded.reports.failingInARow(['failed'], ['succeeded']);
    expect(Object.fromEntries(failing.map((r) => [r.runbook, r.count]))).toEqual({ 'data-restore': 2, 'password-reset': 225 });
  });

  it('forgets runs that ended before the retention cutoff, report, status copy and host rows together, never a run still going', async () => {
    const [a, b] = [openStore(location), openStore(location)];
    const ended = ['succeeded', 'failed', 'cancelled'];
    for (const run of ['r1', 'r2', 'r3']) {
      await a.reports.put(run, `${run}-temporal`, '{}');
      await a.runStatus.put(run, 'succeeded', '1', '{}');
      await a.runHosts.plan(run, [['h1', 'h2']], 2);
    }
    await a.runStatus.put('terminated', 'failed', '1', '{}'); // ended without a report
    await a.runStatus.put('waiting', 'awaiting_approval', '1', '{}');
    await a.runHosts.plan('waiting', [['h1']], 1);

    // Nothing ended before a cutoff in the past.
    expect(await a.reports.pruneEndedBefore('2000-01-01T00:00:00.000Z', ended, 10)).toEqual([]);
    const later = new Date(Date.now() + 86_400_000).toISOString();
    // At most `limit` runs per call.
    const first = await a.reports.pruneEndedBefore(later, ended, 2);
    expect(first).toHaveLength(2);
    for (const run of first) {
      expect(await b.reports.get(run)).toBeUndefined();
      expect(await b.runStatus.get(run)).toBeUndefined();
      expect(await b.runHosts.all(run)).toEqual([]);
    }
    // Two instances pruning at once forget each of the rest once, between them.
    const [x, y] = await Promise.all([a.reports.pruneEndedBefore(later, ended, 10), b.reports.pruneEndedBefore(later, ended, 10)]);
    const rest = ['r1', 'r2', 'r3', 'terminated'].filter((run) => !first.includes(run));
    expect(new Set([...x, ...y])).toEqual(new Set(rest));
    for (const run of ['r1', 'r2', 'r3', 'terminated']) expect(await b.runStatus.get(run)).toBeUndefined();
    expect(await b.runHosts.all('r3')).toEqual([]);
    // A run still going keeps its copy and its hosts, however old.
    expect(await b.runStatus.get('waiting')).toMatchObject({ status: 'awaiting_approval' });
    expect((await b.runHosts.all('waiting')).map((h) => h.host)).toEqual(['h1']);
    expect(await a.reports.pruneEndedBefore(later, ended, 10)).toEqual([]);
  });

  it('leaves an old report alone when its run id names a run going again, and forgets a large run over several calls within the row budget', async () => {
    const store = openStore(location);
    const ended = ['succeeded', 'failed'];
    const later = new Date(Date.now() + 86_400_000).toISOString();
    // An idempotency key reused after Temporal forgot the first run: the id's copy is the new run's.
    await store.reports.put('reused', 'first-run', '{}');
    await store.runStatus.put('reused', 'running', '1', '{}');
    await store.runHosts.plan('reused', [['h1']], 1);
    await store.reports.put('large', 'r', '{}');
    await store.runStatus.put('large', 'succeeded', '1', '{}');
    await store.runHosts.plan('large', [['h1', 'h2', 'h3', 'h4', 'h5']], 5);

    // A budget of 3 host rows: the large run is not wholly forgotten yet, and is found again by its report.
    expect(await store.reports.pruneEndedBefore(later, ended, 10, 3)).toEqual([]);
    expect(await store.runHosts.all('large')).toHaveLength(2);
    expect(await store.reports.get('large')).toBeDefined();
    expect(await store.reports.pruneEndedBefore(later, ended, 10, 3)).toEqual(['large']);
    expect(await store.runHosts.all('large')).toEqual([]);
    expect(await store.reports.get('large')).toBeUndefined();
    expect(await store.runStatus.get('large')).toBeUndefined();

    expect(await store.reports.get('reused')).toBeDefined();
    expect(await store.runStatus.get('reused')).toMatchObject({ status: 'running' });
    expect(await store.runHosts.all('reused')).toHaveLength(1);
  });
});
