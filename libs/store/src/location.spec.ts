import path from 'node:path';
import { describeLocation, storeLocationFromEnv } from './location';

describe('storeLocationFromEnv', () => {
  it('selects PostgreSQL when RUNBOOKS_DATABASE_URL is set, else the SQLite file in the data folder', () => {
    const url = 'postgres://runbooks:secret@db.internal:5432/runbooks';
    expect(storeLocationFromEnv({ RUNBOOKS_DATABASE_URL: url }, '/srv/data')).toEqual({ kind: 'postgres', url });
    expect(storeLocationFromEnv({ RUNBOOKS_DATA_DIR: '/var/lib/runbooks' }, '/srv/data')).toEqual({
      kind: 'sqlite',
      file: path.join('/var/lib/runbooks', 'runbooks.sqlite'),
    });
    expect(storeLocationFromEnv({}, '/srv/data')).toEqual({ kind: 'sqlite', file: path.join('/srv/data', 'runbooks.sqlite') });
  });

  it('refuses a URL of another database, naming the variable', () => {
    expect(() => storeLocationFromEnv({ RUNBOOKS_DATABASE_URL: 'mysql://x@y/z' }, '/srv/data')).toThrow(
      /RUNBOOKS_DATABASE_URL must be a postgres:\/\/ URL/,
    );
  });

  it('never shows the password when it names the location', () => {
    expect(describeLocation({ kind: 'postgres', url: 'postgres://runbooks:secret@db:5432/runbooks' })).toBe(
      'PostgreSQL postgres://runbooks:***@db:5432/runbooks',
    );
  });
});
