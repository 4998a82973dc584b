import { ApplicationFailure } from '@temporalio/common';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HostFailureType } from './failures';
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
  let file: string;

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'inventory-'));
    file = path.join(dir, 'inventory.json');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('round-trips an inventory through the file, with defaults filled in', async () => {
    const store = new InventoryStore(file);
    await store.replace({
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

    const reread = await new InventoryStore(file).read();

    expect(reread.hosts.map((h) => h.name)).toEqual(['web-1', 'lab-1']);
    expect(reread.hosts[1].tags).toEqual([]);
    expect(reread).toEqual(await store.read());
    expect((await store.get('web-1')).ssh?.user).toBe('ops');
  });

  it('reads a missing file as an empty inventory', async () => {
    await expect(new InventoryStore(file).read()).resolves.toEqual({ hosts: [] });
  });

  it('rejects duplicate host names with the field path, and keeps the file as it was', async () => {
    const store = new InventoryStore(file);
    await store.replace({ hosts: [{ name: 'a', address: 'a', osFamily: 'lab', driver: 'lab' }] });

    const failure = await failureOf(
      store.replace({
        hosts: [
          { name: 'b', address: 'b', osFamily: 'lab', driver: 'lab' },
          { name: 'b', address: 'b2', osFamily: 'lab', driver: 'lab' },
        ],
      }),
    );

    expect(failure.type).toBe(HostFailureType.inventoryInvalid);
    expect(failure.message).toContain('hosts.1.name: duplicate host name b');
    expect(JSON.parse(readFileSync(file, 'utf8')).hosts.map((h: { name: string }) => h.name)).toEqual(['a']);
  });

  it('get of a host the inventory does not have is a non-retryable HostNotInInventory', async () => {
    const failure = await failureOf(new InventoryStore(file).get('ghost-1'));

    expect(failure.type).toBe(HostFailureType.notInInventory);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('ghost-1');
  });

  it('sees a file another writer changed, and refuses one that is not valid', async () => {
    const store = new InventoryStore(file);
    writeFileSync(file, JSON.stringify({ hosts: [{ name: 'a', address: 'a', osFamily: 'lab', driver: 'lab' }] }));
    expect((await store.read()).hosts).toHaveLength(1);

    writeFileSync(
      file,
      JSON.stringify({
        hosts: [
          { name: 'b', address: 'b', osFamily: 'lab', driver: 'lab' },
          { name: 'c', address: 'c', osFamily: 'lab', driver: 'lab' },
        ],
      }),
    );
    expect((await store.read()).hosts.map((h) => h.name)).toEqual(['b', 'c']);

    writeFileSync(file, JSON.stringify({ hosts: [{ name: 'x', address: 'x', osFamily: 'windows', driver: 'lab' }] }));
    const failure = await failureOf(store.read());
    expect(failure.type).toBe(HostFailureType.inventoryInvalid);
    expect(failure.message).toContain('hosts.0.osFamily');
  });

  it('answers 10,000 lookups in a 10,000-host inventory from one parse', async () => {
    const hosts = Array.from({ length: 10_000 }, (_, i) => ({
      name: `host-${i}`,
      address: `10.0.${i >> 8}.${i & 255}`,
      osFamily: 'lab' as const,
      driver: 'lab' as const,
      tags: ['fleet'],
    }));
    writeFileSync(file, JSON.stringify({ hosts }));
    const store = new InventoryStore(file);
    await store.read();

    const started = Date.now();
    for (let i = 0; i < 10_000; i++) await store.get(`host-${i}`);
    const elapsed = Date.now() - started;

    // One parse of this file takes ~100 ms, so 10,000 of them would take a quarter of an hour; cached, ~1 s.
    expect(elapsed).toBeLessThan(30_000);
  });
});
