import { Store, type StoreLocation } from '@runbooks/store';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freshPostgresDatabase } from './postgres';

/** The store's two backends, each able to make a fresh, empty location per test. */
export const STORE_BACKENDS: { name: 'sqlite' | 'postgres'; freshLocation: () => Promise<StoreLocation> }[] = [
  {
    name: 'sqlite',
    freshLocation: async () => ({
      kind: 'sqlite',
      file: path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'runbooks-store-')), 'runbooks.sqlite'),
    }),
  },
  { name: 'postgres', freshLocation: async () => ({ kind: 'postgres', url: await freshPostgresDatabase() }) },
];

/** Stores opened by a test, closed after it (register with `afterEach(closeStores)`). */
const opened: Store[] = [];

/** Opens a store on the location, as another process would (its own connection or pool). */
export function openStore(location: StoreLocation): Store {
  const store = Store.open(location);
  opened.push(store);
  return store;
}

/** A fresh SQLite store in `dir` (tests that do not exercise the backend itself). */
export function sqliteStoreIn(dir: string): Store {
  return openStore({ kind: 'sqlite', file: path.join(dir, 'runbooks.sqlite') });
}

export async function closeStores(): Promise<void> {
  await Promise.all(opened.splice(0).map((s) => s.close()));
}
