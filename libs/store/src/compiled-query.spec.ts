import { Kysely, sql } from 'kysely';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CompiledOnce } from './compiled-query';
import { PatientSqliteDialect } from './patient-sqlite';

interface Tables {
  item: { id: number; label: string; retired: number | null };
}

describe('CompiledOnce', () => {
  let dir: string;
  let db: Kysely<Tables>;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runbooks-compiled-once-'));
    db = new Kysely<Tables>({ dialect: new PatientSqliteDialect(path.join(dir, 'store.sqlite')) });
    await sql`create table item (id integer primary key, label text not null, retired integer)`.execute(db);
  });

  afterEach(async () => {
    await db.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('runs each call with its own values in the placeholders, and the values the builder fixed unchanged', async () => {
    const insert = new CompiledOnce(2, (id: number, label: string) => db.insertInto('item').values({ id, label, retired: 0 }));
    await insert.execute(db, 1, 'one');
    await insert.execute(db, 2, 'two');
    const label = new CompiledOnce(1, (id: number) => db.selectFrom('item').select('label').where('retired', '=', 0).where('id', '=', id));
    expect((await label.execute(db, 2)).rows).toEqual([{ label: 'two' }]);
    expect((await label.execute(db, 1)).rows).toEqual([{ label: 'one' }]);
    await db.updateTable('item').set({ retired: 1 }).where('id', '=', 1).execute();
    expect((await label.execute(db, 1)).rows).toEqual([]);
    expect(await db.selectFrom('item').select(['id', 'label', 'retired']).orderBy('id').execute()).toEqual([
      { id: 1, label: 'one', retired: 1 },
      { id: 2, label: 'two', retired: 0 },
    ]);
  });

  it('runs inside a transaction it is given: a rollback undoes its write', async () => {
    const insert = new CompiledOnce(1, (id: number) => db.insertInto('item').values({ id, label: 'in a transaction', retired: null }));
    await expect(
      db.transaction().execute(async (trx) => {
        await insert.execute(trx, 7);
        expect(await trx.selectFrom('item').select('id').execute()).toEqual([{ id: 7 }]);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await db.selectFrom('item').select('id').execute()).toEqual([]);
  });

  it('refuses a builder that does not use a placeholder as a parameter, rather than run it with a fixed value', async () => {
    const unused = new CompiledOnce(1, (_id: number) => db.selectFrom('item').select('label').where('id', '=', 1));
    await expect(unused.execute(db, 2)).rejects.toThrow(/did not become parameters/);
  });
});
