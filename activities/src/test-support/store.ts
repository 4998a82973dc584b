import { Store } from '@runbooks/store';
import path from 'node:path';

/** A fresh SQLite store in `dir` (a test's own folder): close it in the test's teardown. */
export function storeIn(dir: string): Store {
  return Store.open({ kind: 'sqlite', file: path.join(dir, 'runbooks.sqlite') });
}
