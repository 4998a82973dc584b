import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { Host } from '@runbooks/contracts';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { storeIn } from '../test-support/store';
import { createHostActivities, createHostDeps, type HostActivities } from './activities';
import { HostFailureType } from './failures';
import type { InventoryStore } from './inventory-store';
import type { LabFleet } from './lab-fleet';

function labHost(name: string, tags: string[] = []): Host {
  return { name, address: name, osFamily: 'lab', tags, driver: 'lab' };
}

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApplicationFailure);
  return error as ApplicationFailure;
}

/** Runs work over items with at most `limit` calls in flight. */
async function mapConcurrently<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]);
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  return results;
}

describe('hosts activities', () => {
  let dir: string;
  let inventory: InventoryStore;
  let lab: LabFleet;
  let activities: HostActivities;

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'host-activities-'));
    const deps = createHostDeps({
      store: storeIn(dir),
      labRoot: path.join(dir, 'lab'),
      stateDir: path.join(dir, 'state'),
    });
    inventory = deps.inventory;
    lab = deps.drivers.lab;
    activities = createHostActivities(deps);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  describe('resolveTargets', () => {
    beforeEach(async () => {
      await inventory.replace({
        hosts: [
          labHost('lab-1', ['canary', 'web']),
          labHost('web-1', ['web', 'prod']),
          labHost('web-2', ['web', 'prod']),
          labHost('db-1', ['db', 'prod']),
          labHost('db-2', ['db', 'prod', 'canary']),
          labHost('lab-2', ['canary']),
        ],
      });
    });

    it('selects by tag, in inventory order', async () => {
      const result = await activities.resolveTargets({ targets: { tags: ['web'] }, canary: { tags: ['canary'] } });

      expect(result.targets).toEqual(['lab-1', 'web-1', 'web-2']);
    });

    it('selects by name', async () => {
      const result = await activities.resolveTargets({ targets: { names: ['db-1', 'web-2'] }, canary: { names: ['web-2'] } });

      expect(result).toEqual({ targets: ['web-2', 'db-1'], canary: ['web-2'], unknownNames: [] });
    });

    it('takes the union of names and tags', async () => {
      const result = await activities.resolveTargets({ targets: { names: ['lab-2'], tags: ['db'] }, canary: { tags: ['canary'] } });

      expect(result.targets).toEqual(['db-1', 'db-2', 'lab-2']);
    });

    it('picks the canary among the targets only', async () => {
      const result = await activities.resolveTargets({ targets: { tags: ['prod'] }, canary: { tags: ['canary'] } });

      expect(result.targets).toEqual(['web-1', 'web-2', 'db-1', 'db-2']);
      expect(result.canary).toEqual(['db-2']);
    });

    it('reports the names of either selector that the inventory does not have, once each', async () => {
      const result = await activities.resolveTargets({
        targets: { names: ['web-1', 'ghost-1', 'ghost-2'] },
        canary: { names: ['ghost-1', 'ghost-3'] },
      });

      expect(result.targets).toEqual(['web-1']);
      expect(result.canary).toEqual([]);
      expect(result.unknownNames).toEqual(['ghost-1', 'ghost-2', 'ghost-3']);
    });
  });

  describe('per-host activities', () => {
    const patches = [{ package: 'openssl', version: '3.0.2' }];

    beforeEach(async () => {
      await inventory.replace({ hosts: [labHost('lab-1'), labHost('lab-2')] });
      await lab.seed([
        { name: 'lab-1', packages: { openssl: '3.0.1' } },
        { name: 'lab-2', packages: { openssl: '3.0.1' }, faults: { hang: true } },
      ]);
    });

    it('dispatch on the host driver: snapshot, patch, health and restore of a lab host', async () => {
      const { snapshotId } = await activities.snapshotHost({ host: 'lab-1', idempotencyKey: 'r/snap/lab-1' });
      const patched = await activities.patchHost({ host: 'lab-1', patches, idempotencyKey: 'r/patch/lab-1' });
      const health = await activities.checkHostHealth({ host: 'lab-1', idempotencyKey: 'r/health/lab-1' });
      const restored = await activities.restoreHostSnapshot({ host: 'lab-1', snapshotId, idempotencyKey: 'r/restore/lab-1' });

      expect(patched.changed).toEqual([{ package: 'openssl', from: '3.0.1', to: '3.0.2' }]);
      expect(health.healthy).toBe(true);
      expect(restored.restored).toEqual(['openssl']);
      expect((await lab.readHost('lab-1')).packages).toEqual({ openssl: '3.0.1' });
    });

    it('a host not in the inventory is HostNotInInventory; no patches is HostActionInvalid', async () => {
      const unknown = await failureOf(activities.patchHost({ host: 'ghost-1', patches, idempotencyKey: 'k' }));
      const empty = await failureOf(activities.patchHost({ host: 'lab-1', patches: [], idempotencyKey: 'k' }));

      expect(unknown.type).toBe(HostFailureType.notInInventory);
      expect(empty.type).toBe(HostFailureType.invalidInput);
      expect(await lab.ledger()).toEqual([]);
    });

    it('a host action that ends within the first heartbeat interval sends no heartbeat', async () => {
      const env = new MockActivityEnvironment({ heartbeatTimeoutMs: 30_000 });
      let heartbeats = 0;
      env.on('heartbeat', () => heartbeats++);

      await env.run(activities.snapshotHost, { host: 'lab-1', idempotencyKey: 'r/snapshot/lab-1' });
      await env.run(activities.checkHostHealth, { host: 'lab-1', idempotencyKey: 'r/health/lab-1' });

      expect(heartbeats).toBe(0);
    });

    it('a hanging patch heartbeats, and ends when the activity is cancelled, having applied nothing', async () => {
      // Beats every half heartbeat timeout (200 ms here), so a live worker is never taken for a lost one.
      const env = new MockActivityEnvironment({ heartbeatTimeoutMs: 400 });
      let heartbeats = 0;
      env.on('heartbeat', () => heartbeats++);

      const running = env.run(activities.patchHost, { host: 'lab-2', patches, idempotencyKey: 'r/patch/lab-2' });
      const settled = running.then(
        () => 'resolved',
        () => 'rejected',
      );
      const stillRunning = await Promise.race([settled, new Promise((resolve) => setTimeout(() => resolve('running'), 500))]);
      env.cancel();

      expect(stillRunning).toBe('running');
      expect(heartbeats).toBeGreaterThan(0);
      await expect(running).rejects.toBeInstanceOf(CancelledFailure);
      expect((await lab.readHost('lab-2')).packages.openssl).toBe('3.0.1');
      expect(await lab.ledger()).toEqual([]);
      // The host's lock was released: the retried patch goes through once the fault is gone.
      await lab.setFaults('lab-2', {});
      await expect(activities.patchHost({ host: 'lab-2', patches, idempotencyKey: 'r/patch/lab-2' })).resolves.toEqual({
        changed: [{ package: 'openssl', from: '3.0.1', to: '3.0.2' }],
      });
    });

    it('500 hosts patched with concurrency 50, every call sent twice, leave exactly 500 patch lines', async () => {
      const names = Array.from({ length: 500 }, (_, i) => `fleet-${i}`);
      await inventory.replace({ hosts: names.map((name) => labHost(name, ['fleet'])) });
      await lab.seed(names.map((name) => ({ name, packages: { openssl: '3.0.1', curl: '7.88.1' } })));
      const { targets } = await activities.resolveTargets({ targets: { tags: ['fleet'] }, canary: { names: ['fleet-0'] } });
      const calls = [...targets, ...targets].sort();

      const results = await mapConcurrently(calls, 50, (host) =>
        activities.patchHost({ host, patches: [...patches, { package: 'curl', version: '8.0.0' }], idempotencyKey: `run-1/patch/${host}` }),
      );

      const ledger = await lab.ledger();
      expect(ledger.filter((e) => e.op === 'patch')).toHaveLength(500);
      expect(new Set(ledger.map((e) => e.host)).size).toBe(500);
      expect(results.every((r) => r.changed.length === 2)).toBe(true);
      const states = await Promise.all(names.map((name) => lab.readHost(name)));
      expect(states.every((s) => s.packages.openssl === '3.0.2' && s.packages.curl === '8.0.0')).toBe(true);
    });
  });
});
