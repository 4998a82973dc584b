import { ApplicationFailure } from '@temporalio/common';
import type { Host } from '@runbooks/contracts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HostFailureType } from './failures';
import { LabFleet } from './lab-fleet';
import { storeIn } from '../test-support/store';
import type { Store } from '@runbooks/store';

function labHost(name: string): Host {
  return { name, address: name, osFamily: 'lab', tags: [], driver: 'lab' };
}

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApplicationFailure);
  return error as ApplicationFailure;
}

describe('LabFleet', () => {
  let root: string;
  let store: Store;
  let fleet: LabFleet;
  const web = labHost('web-1');
  const patches = [
    { package: 'openssl', version: '3.0.2' },
    { package: 'curl', version: '8.0.0' },
  ];

  beforeEach(async () => {
    root = mkdtempSync(path.join(os.tmpdir(), 'lab-fleet-'));
    store = storeIn(root);
    fleet = new LabFleet(root, store);
    await fleet.seed([{ name: 'web-1', packages: { openssl: '3.0.1', curl: '7.88.1', zlib: '1.2.13' } }]);
  });
  afterEach(async () => {
    await store.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('a patch sets the package versions on disk, reports what changed and writes one ledger line', async () => {
    const result = await fleet.patch(web, patches, 'run-1/patch/web-1');

    expect(result.changed).toEqual([
      { package: 'openssl', from: '3.0.1', to: '3.0.2' },
      { package: 'curl', from: '7.88.1', to: '8.0.0' },
    ]);
    expect((await fleet.readHost('web-1')).packages).toEqual({ openssl: '3.0.2', curl: '8.0.0', zlib: '1.2.13' });
    const ledger = await fleet.ledger();
    expect(ledger).toHaveLength(1);
    expect(ledger[0]).toMatchObject({ host: 'web-1', op: 'patch', key: 'run-1/patch/web-1', detail: result });
  });

  it('a software-conflict fix rolls back and holds, or removes, once per key; its undo releases the hold and puts the snapshot back', async () => {
    const { snapshotId } = await fleet.snapshot(web, 'run-1/snapshot/web-1');
    const rollback = { action: 'rollback' as const, package: 'openssl', version: '3.0.0', hold: true };
    expect(await fleet.applyConflictFix(web, rollback, 'run-1/fix/web-1')).toEqual({ package: 'openssl', from: '3.0.1', version: '3.0.0' });
    await fleet.applyConflictFix(web, rollback, 'run-1/fix/web-1'); // a retry changes nothing
    expect(await fleet.readHost('web-1')).toMatchObject({
      packages: { openssl: '3.0.0', curl: '7.88.1', zlib: '1.2.13' },
      held: ['openssl'],
    });
    expect((await fleet.ledger()).filter((e) => e.op === 'patch')).toHaveLength(1);

    await fleet.undoConflictFix(web, rollback, snapshotId, 'run-1/restore/web-1');
    expect(await fleet.readHost('web-1')).toMatchObject({ packages: { openssl: '3.0.1', curl: '7.88.1', zlib: '1.2.13' }, held: [] });

    expect(await fleet.applyConflictFix(web, { action: 'remove', package: 'curl' }, 'run-2/fix/web-1')).toEqual({
      package: 'curl',
      from: '7.88.1',
      version: null,
    });
    expect((await fleet.readHost('web-1')).packages).toEqual({ openssl: '3.0.1', zlib: '1.2.13' });
  });

  it('a retried patch with the same key applies nothing and writes nothing, also after a restart', async () => {
    const first = await fleet.patch(web, patches, 'key-a');
    await fleet.patch(web, [{ package: 'openssl', version: '3.0.3' }], 'key-b');

    const retried = await fleet.patch(web, patches, 'key-a');
    const afterRestart = await new LabFleet(root, storeIn(root)).patch(web, patches, 'key-a');

    expect(retried).toEqual(first);
    expect(afterRestart).toEqual(first);
    expect((await fleet.readHost('web-1')).packages.openssl).toBe('3.0.3');
    expect((await fleet.ledger()).map((e) => e.key)).toEqual(['key-a', 'key-b']);
  });

  it('snapshot then restore brings the versions back (removing packages the patch added) and marks the host healthy', async () => {
    const { snapshotId } = await fleet.snapshot(web, 'run-1/snapshot/web-1');
    await fleet.setFaults('web-1', { failHealth: true });
    await fleet.patch(web, [...patches, { package: 'libnew', version: '1.0' }], 'run-1/patch/web-1');

    const restored = await fleet.restore(web, snapshotId, 'run-1/restore/web-1');

    expect(restored.restored).toEqual(['curl', 'libnew', 'openssl']);
    const state = await fleet.readHost('web-1');
    expect(state.packages).toEqual({ openssl: '3.0.1', curl: '7.88.1', zlib: '1.2.13' });
    expect(state.healthy).toBe(true);
    expect((await fleet.ledger()).map((e) => e.op)).toEqual(['snapshot', 'patch', 'restore']);
  });

  it('a retried snapshot gives the same id without a second ledger line; another key gives another id', async () => {
    const first = await fleet.snapshot(web, 'run-1/snapshot/web-1');
    const retried = await fleet.snapshot(web, 'run-1/snapshot/web-1');
    const other = await fleet.snapshot(web, 'run-2/snapshot/web-1');

    expect(retried).toEqual(first);
    expect(first.snapshotId).toMatch(/^[0-9a-f]{16}$/);
    expect(other.snapshotId).not.toBe(first.snapshotId);
    expect(await fleet.ledger()).toHaveLength(2);
  });

  it('a host with failPatch fails the patch as non-retryable PatchFailed and changes nothing', async () => {
    await fleet.setFaults('web-1', { failPatch: true });

    const failure = await failureOf(fleet.patch(web, patches, 'k'));

    expect(failure.type).toBe(HostFailureType.patchFailed);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('web-1');
    expect((await fleet.readHost('web-1')).packages.openssl).toBe('3.0.1');
    expect(await fleet.ledger()).toEqual([]);
  });

  it('a host with failHealth is healthy before the patch and unhealthy after it', async () => {
    await fleet.setFaults('web-1', { failHealth: true });
    expect((await fleet.health(web)).healthy).toBe(true);

    await fleet.patch(web, patches, 'k');

    const health = await fleet.health(web);
    expect(health.healthy).toBe(false);
    expect(health.detail).toContain('web-1');
  });

  it('restoring a snapshot the host does not have is HostSnapshotNotFound', async () => {
    const failure = await failureOf(fleet.restore(web, '0123456789abcdef', 'k'));

    expect(failure.type).toBe(HostFailureType.snapshotNotFound);
    expect(failure.nonRetryable).toBe(true);
  });

  it('imports the ledger file of the layout before the store once: a key applied then is not applied again', async () => {
    const old = mkdtempSync(path.join(os.tmpdir(), 'lab-fleet-old-'));
    const entry = { at: '2026-11-01T00:00:00.000Z', host: 'web-1', op: 'patch', key: 'old-key', detail: { changed: [] } };
    writeFileSync(path.join(old, 'ledger.jsonl'), `${JSON.stringify(entry)}\n{"torn`);
    const upgraded = new LabFleet(old, store);
    await upgraded.seed([{ name: 'web-1', packages: { openssl: '3.0.1' } }]);

    expect(await upgraded.patch(web, patches, 'old-key')).toEqual({ changed: [] });
    expect((await upgraded.readHost('web-1')).packages.openssl).toBe('3.0.1');
    expect(await upgraded.ledger()).toEqual([entry]);
    rmSync(old, { recursive: true, force: true });
  });

  describe('a key whose claimant died (its claim in the store without a result, its lease run out)', () => {
    const past = () => new Date(Date.now() - 1_000).toISOString();

    it('is not applied again when the host shows it applied: the taker records what the host shows', async () => {
      const first = await fleet.patch(web, patches, 'key-a');
      // As if the worker died after changing the host and before recording the result.
      await store.db.updateTable('host_operations').set({ result: null, applied_at: null, lease_until: past() }).execute();
      await fleet.setFaults('web-1', { failPatch: true }); // any second application would throw

      const retried = await new LabFleet(root, storeIn(root)).patch(web, patches, 'key-a');

      expect(retried).toEqual(first);
      const [entry] = await fleet.ledger();
      expect(entry).toMatchObject({ key: 'key-a', detail: first });
      expect((await store.operations.find({ scope: 'lab', host: 'web-1', op: 'patch', key: 'key-a' }))?.attempt).toBe(2);
    });

    it('is applied by the taker when the host does not show it applied', async () => {
      // As if the worker died after claiming the key and before changing the host.
      await store.operations.claim({ scope: 'lab', host: 'web-1', op: 'patch', key: 'key-a' }, 'dead-worker', past());

      const result = await fleet.patch(web, patches, 'key-a');

      expect(result.changed).toHaveLength(2);
      expect((await fleet.readHost('web-1')).packages.openssl).toBe('3.0.2');
      expect(await fleet.ledger()).toHaveLength(1);
    });

    it('is waited for while its claimant is alive, and its result is returned without applying', async () => {
      const id = { scope: 'lab', host: 'web-1', op: 'patch', key: 'key-a' };
      await store.operations.claim(id, 'live-worker', new Date(Date.now() + 60_000).toISOString());

      const waiting = fleet.patch(web, patches, 'key-a');
      await new Promise((resolve) => setTimeout(resolve, 300));
      await store.operations.record(id, 'live-worker', 1, JSON.stringify({ changed: [] }));

      await expect(waiting).resolves.toEqual({ changed: [] });
      expect((await fleet.readHost('web-1')).packages.openssl).toBe('3.0.1');
    });
  });

  it('a host never seeded starts empty and healthy, and gets a file on its first change', async () => {
    const fresh = labHost('new-1');
    expect(await fleet.readHost('new-1')).toEqual({ packages: {}, healthy: true, faults: {}, snapshots: {} });

    const result = await fleet.patch(fresh, [{ package: 'openssl', version: '3.0.2' }], 'k');

    expect(result.changed).toEqual([{ package: 'openssl', from: null, to: '3.0.2' }]);
    expect((await fleet.readHost('new-1')).packages).toEqual({ openssl: '3.0.2' });
  });
});
