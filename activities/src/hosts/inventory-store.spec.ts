import { ApplicationFailure } from '@temporalio/common';
import type { Store } from '@runbooks/store';
import { StaleVersionError } from '@runbooks/store';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HostFailureType } from './failures';
import { storeIn } from '../test-support/store';
import { InventoryStore } from './inventory-store';

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApplicationFailure);
  return error as ApplicationFailure;
}

describe('InventoryStore', () => {
  let dir: string;
  let store: Store;
  const lab = (name: string) => ({ name, address: name, osFamily: 'lab' as const, driver: 'lab' as const });

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'inventory-'));
    store = storeIn(dir);
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('round-trips an inventory through the store, with defaults filled in, seen by another process', async () => {
    const inventory = new InventoryStore(store);
    await inventory.replace({
      hosts: [
        {
          name: 'web-1',
          address: '10.0.0.1',
          osFamily: 'debian',
          driver: 'ssh',
          tags: ['web'],
          ssh: { user: 'ops', privateKeyRef: 'secret:ssh/ops' },
        },
        { name: 'lab-1', address: 'lab-1', osFamily: 'lab', driver: 'lab' },
      ],
    });

    const other = storeIn(dir);
    const reread = await new InventoryStore(other).read();
    await other.close();

    expect(reread.hosts.map((h) => h.name)).toEqual(['web-1', 'lab-1']);
    expect(reread.hosts[1].tags).toEqual([]);
    expect(reread).toEqual(await inventory.read());
    expect((await inventory.get('web-1')).ssh?.user).toBe('ops');
  });

  it('reads an empty store as an empty inventory, at version 0', async () => {
    await expect(new InventoryStore(store).readVersioned()).resolves.toEqual({ inventory: { hosts: [] }, version: 0, updatedAt: null });
  });

  it('rejects duplicate host names with the field path, and keeps the inventory as it was', async () => {
    const inventory = new InventoryStore(store);
    await inventory.replace({ hosts: [lab('a')] });

    const failure = await failureOf(inventory.replace({ hosts: [lab('b'), { ...lab('b'), address: 'b2' }] }));

    expect(failure.type).toBe(HostFailureType.inventoryInvalid);
    expect(failure.message).toContain('hosts.1.name: duplicate host name b');
    expect((await inventory.read()).hosts.map((h) => h.name)).toEqual(['a']);
  });

  it('replaces only from the version the writer read (If-Match): a stale one is refused and changes nothing', async () => {
    const inventory = new InventoryStore(store);
    const { version } = await inventory.replaceVersioned({ hosts: [lab('a')] });
    await new InventoryStore(store).replace({ hosts: [lab('b')] }, version);

    await expect(inventory.replace({ hosts: [lab('c')] }, version)).rejects.toThrow(StaleVersionError);
    expect((await inventory.read()).hosts.map((h) => h.name)).toEqual(['b']);
  });

  it('get of a host the inventory does not have is a non-retryable HostNotInInventory', async () => {
    const failure = await failureOf(new InventoryStore(store).get('ghost-1'));

    expect(failure.type).toBe(HostFailureType.notInInventory);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('ghost-1');
  });

  it('imports the inventory file of the old layout once, and refuses an invalid one naming the field', async () => {
    const file = path.join(dir, 'inventory.json');
    writeFileSync(file, JSON.stringify({ hosts: [lab('a')] }));
    expect((await new InventoryStore(store, file).read()).hosts.map((h) => h.name)).toEqual(['a']);
    writeFileSync(file, JSON.stringify({ hosts: [lab('b')] }));
    expect((await new InventoryStore(store, file).read()).hosts.map((h) => h.name)).toEqual(['a']);

    const broken = path.join(dir, 'broken.json');
    writeFileSync(broken, JSON.stringify({ hosts: [{ ...lab('x'), osFamily: 'windows' }] }));
    const failure = await failureOf(new InventoryStore(store, broken).read());
    expect(failure.type).toBe(HostFailureType.inventoryInvalid);
    expect(failure.message).toContain('hosts.0.osFamily');
  });

  it('answers 10,000 lookups in a 10,000-host inventory from one read of the hosts, and re-reads after a change', async () => {
    const hosts = Array.from({ length: 10_000 }, (_, i) => ({
      ...lab(`host-${i}`),
      address: `10.0.${i >> 8}.${i & 255}`,
      tags: ['fleet'],
    }));
    await new InventoryStore(store).replace({ hosts });
    const inventory = new InventoryStore(store);
    const reads = jest.spyOn(store.inventory, 'read');

    for (let i = 0; i < 10_000; i++) await inventory.get(`host-${i}`);
    expect(reads).toHaveBeenCalledTimes(1);

    await new InventoryStore(store).replace({ hosts: [lab('only-1')] });
    await expect(inventory.get('host-1')).rejects.toThrow(/not in the inventory/);
    expect(reads).toHaveBeenCalledTimes(2);
  });
});
