import path from 'node:path';

/** Where the store lives: a PostgreSQL database, or an SQLite file (the embedded default). */
export type StoreLocation = { kind: 'postgres'; url: string } | { kind: 'sqlite'; file: string };

/**
 * `RUNBOOKS_DATABASE_URL=postgres://user:pass@host:port/db` selects PostgreSQL; without it, the
 * SQLite file `runbooks.sqlite` in `RUNBOOKS_DATA_DIR` (or `defaultDataDir`), which the API and
 * the worker of one machine share.
 */
export function storeLocationFromEnv(env: NodeJS.ProcessEnv, defaultDataDir: string): StoreLocation {
  const url = env.RUNBOOKS_DATABASE_URL;
  if (url) {
    if (!/^postgres(ql)?:\/\//.test(url)) {
      throw new Error(
        'RUNBOOKS_DATABASE_URL must be a postgres:// URL (postgres://user:pass@host:port/db); unset it for the SQLite default',
      );
    }
    return { kind: 'postgres', url };
  }
  return { kind: 'sqlite', file: path.join(env.RUNBOOKS_DATA_DIR || defaultDataDir, 'runbooks.sqlite') };
}

/** The location without its password, for logs. */
export function describeLocation(location: StoreLocation): string {
  if (location.kind === 'sqlite') return `SQLite ${location.file}`;
  const url = new URL(location.url);
  if (url.password) url.password = '***';
  return `PostgreSQL ${url.toString()}`;
}
