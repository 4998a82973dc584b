import { Kysely, sql, type CompiledQuery, type QueryResult } from 'kysely';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BatchedInsert } from './batched-insert';
import { CompiledOnce, type QueryRunner } from './compiled-query';
import { PatientSqliteDialect } from './patient-sqlite';

interface Tables {
  item: { id: number; label: string };
}

describe('BatchedInsert', () => {
  let dir: string;
  let db: Kysely<Tables>;
  /** The statements that reached the database, in order. */
  let statements: string[];
  let runner: QueryRunner;
  let items: BatchedInsert<[id: number, label: string]>;
  /** How many times the lone row's insert was built. */
  let builds: number;
  /** Set to make the next statement fail with this error after the database ran it. */
  let failAfterRunning: Error | undefined;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runbooks-batched-insert-'));
    db = new Kysely<Tables>({ dialect: new PatientSqliteDialect(path.join(dir, 'store.sqlite')) });
    await sql`create table item (id integer primary key, label text not null check (label <> ''))`.execute(db);
    statements = [];
    builds = 0;
    failAfterRunning = undefined;
    runner = {
      async executeQuery<R>(query: CompiledQuery<R>): Promise<QueryResult<R>> {
        statements.push(query.sql);
        const result = await db.executeQuery(query);
        const failure = failAfterRunning;
        failAfterRunning = undefined;
        if (failure) throw failure;
        return result;
      },
    };
    const one = new CompiledOnce(2, (id: number, label: string) => {
      builds += 1;
      return db.insertInto('item').values({ id, label });
    });
    items = new BatchedInsert(runner, one, (rows) => db.insertInto('item').values(rows.map(([id, label]) => ({ id, label }))));
  });

  afterEach(async () => {
    await db.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const stored = () => db.selectFrom('item').select(['id', 'label']).orderBy('id').execute();

  it('commits the rows inserted in one turn of the event loop in one statement, each caller resolved once its row is stored', async () => {
    await Promise.all(Array.from({ length: 40 }, (_, i) => items.insert([i + 1, `row ${i + 1}`])));
    expect(statements).toHaveLength(1);
    expect(await stored()).toEqual(Array.from({ length: 40 }, (_, i) => ({ id: i + 1, label: `row ${i + 1}` })));
  });

  it('inserts a lone row with the statement compiled once', async () => {
    await items.insert([1, 'alone']);
    await items.insert([2, 'alone again']);
    expect(statements).toHaveLength(2);
    expect(builds).toBe(1);
    expect(await stored()).toEqual([
      { id: 1, label: 'alone' },
      { id: 2, label: 'alone again' },
    ]);
  });

  it('refuses only the bad row of a batch the database refuses: the others are stored', async () => {
    const outcomes = await Promise.allSettled([items.insert([1, 'good']), items.insert([2, '']), items.insert([3, 'also good'])]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(String((outcomes[1] as PromiseRejectedResult).reason)).toMatch(/CHECK constraint failed/);
    expect(await stored()).toEqual([
      { id: 1, label: 'good' },
      { id: 3, label: 'also good' },
    ]);
  });

  it('passes a failure that is not a refused row to every caller of the batch, without retrying row by row', async () => {
    // As a connection lost after the commit: the rows are stored, and a retry would call them duplicates.
    failAfterRunning = new Error('connection terminated unexpectedly');
    const outcomes = await Promise.allSettled([items.insert([1, 'one']), items.insert([2, 'two'])]);
    expect(outcomes.map((o) => o.status === 'rejected' && String(o.reason))).toEqual([
      'Error: connection terminated unexpectedly',
      'Error: connection terminated unexpectedly',
    ]);
    expect(statements).toHaveLength(1);
    expect(await stored()).toEqual([
      { id: 1, label: 'one' },
      { id: 2, label: 'two' },
    ]);
  });
});
