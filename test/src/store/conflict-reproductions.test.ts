import { StaleVersionError, type StoreLocation } from '@runbooks/store';
import { STORE_BACKENDS, closeStores, openStore } from '../harness/stores';

/** The software-conflict reproduction catalogue on SQLite and PostgreSQL: written by one instance, read by another. */
describe.each(STORE_BACKENDS)('conflict reproductions on $name', ({ freshLocation }) => {
  let location: StoreLocation;
  beforeEach(async () => {
    location = await freshLocation();
  });
  afterEach(closeStores);

  it('replaces the catalogue as a whole in order; an unchanged entry keeps its revision, a changed one takes the new version', async () => {
    const [a, b] = [openStore(location), openStore(location)];
    expect(await a.conflictReproductions.read()).toEqual({ version: 0, updatedAt: null, reproductions: [] });
    const v1 = await a.conflictReproductions.replace([
      { name: 'greeter', body: '{"command":"greet"}' },
      { name: 'printer', body: '{"command":"lpq"}' },
    ]);
    expect(v1.version).toBe(1);
    const v2 = await b.conflictReproductions.replace(
      [
        { name: 'printer', body: '{"command":"lpstat"}' },
        { name: 'greeter', body: '{"command":"greet"}' },
      ],
      v1.version,
    );
    expect(await a.conflictReproductions.read()).toEqual({
      version: 2,
      updatedAt: v2.updatedAt,
      reproductions: [
        { name: 'printer', body: '{"command":"lpstat"}', revision: 2 },
        { name: 'greeter', body: '{"command":"greet"}', revision: 1 },
      ],
    });
    expect(await a.conflictReproductions.get('greeter')).toEqual({ name: 'greeter', body: '{"command":"greet"}', revision: 1 });

    // Removed, then written again: the entry comes back at the version that wrote it, never an older revision.
    await a.conflictReproductions.replace([{ name: 'printer', body: '{"command":"lpstat"}' }]);
    expect(await b.conflictReproductions.get('greeter')).toBeUndefined();
    await a.conflictReproductions.replace([{ name: 'greeter', body: '{"command":"greet"}' }]);
    expect(await b.conflictReproductions.get('greeter')).toMatchObject({ revision: 4 });
  });

  it('refuses a write carrying a stale version and keeps the catalogue as the winner wrote it', async () => {
    const [a, b] = [openStore(location), openStore(location)];
    const v1 = await a.conflictReproductions.replace([{ name: 'greeter', body: '{"command":"greet"}' }]);
    const writes = await Promise.allSettled([
      a.conflictReproductions.replace([{ name: 'from-a', body: '{}' }], v1.version),
      b.conflictReproductions.replace([{ name: 'from-b', body: '{}' }], v1.version),
    ]);
    expect(writes.map((w) => w.status).sort()).toEqual(['fulfilled', 'rejected']);
    const refused = writes.find((w): w is PromiseRejectedResult => w.status === 'rejected');
    expect(refused?.reason).toBeInstanceOf(StaleVersionError);
    const { version, reproductions } = await a.conflictReproductions.read();
    expect(version).toBe(2);
    expect(reproductions).toHaveLength(1);
    expect(['from-a', 'from-b']).toContain(reproductions[0].name);
  });
});
