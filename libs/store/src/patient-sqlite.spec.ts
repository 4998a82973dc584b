import { Kysely, sql } from 'kysely';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PatientSqliteDialect } from './patient-sqlite';

interface Tables {
  item: { id: number; label: string };
}

describe('PatientSqliteDialect prepared statements', () => {
  let dir: string;
  let db: Kysely<Tables>;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runbooks-patient-sqlite-'));
    db = new Kysely<Tables>({ dialect: new PatientSqliteDialect(path.join(dir, 'store.sqlite')) });
    await sql`create table item (id integer primary key, label text not null)`.execute(db);
  });

  afterEach(async () => {
    await db.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const labelOf = (id: number) => db.selectFrom('item').select('label').where('id', '=', id).executeTakeFirst();

  it('answers a repeated query with the rows as they are now, not as they were when it was first prepared', async () => {
    await db.insertInto('item').values({ id: 1, label: 'first' }).execute();
    expect(await labelOf(1)).toEqual({ label: 'first' });
    await db.updateTable('item').set({ label: 'second' }).where('id', '=', 1).execute();
    expect(await labelOf(1)).toEqual({ label: 'second' });
    expect(await labelOf(2)).toBeUndefined();
  });

  it('sees a column added after a query was prepared', async () => {
    await db.insertInto('item').values({ id: 1, label: 'one' }).execute();
    const star = () => sql<Record<string, unknown>>`select * from item where id = ${1}`.execute(db);
    expect((await star()).rows).toEqual([{ id: 1, label: 'one' }]);
    await sql`alter table item add column note text not null default 'none'`.execute(db);
    expect((await star()).rows).toEqual([{ id: 1, label: 'one', note: 'none' }]);
  });
});
