import type { Compilable } from 'kysely';
import type { CompiledOnce, QueryRunner } from './compiled-query';

/** Rows in one statement at most: 500 rows of a few columns stay far under SQLite's and PostgreSQL's parameter limits. */
const MAX_ROWS_PER_STATEMENT = 500;

interface Waiting<Row> {
  row: Row;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Rows that concurrent callers insert within one turn of the event loop go to the database in one
 * multi-row INSERT: one commit (with SQLite one append to the write-ahead log) for all of them
 * instead of one each, the larger part of an API write's own cost under load. Each caller's
 * promise settles when its own row is committed (as a lone insert would) or refused; nothing is
 * held past that, so what another replica reads is what was committed. A batch the database
 * refuses for a row that breaks a rule is inserted row by row, so a bad row costs the others
 * nothing; any other failure of the batch is every caller's.
 */
export class BatchedInsert<Row extends readonly unknown[]> {
  private waiting: Waiting<Row>[] = [];

  constructor(
    private readonly db: QueryRunner,
    /** The insert of one row, compiled once: the statement of a batch of one. */
    private readonly one: CompiledOnce<Row, unknown>,
    /** The insert of several rows, built per batch (its SQL depends on the count). */
    private readonly many: (rows: Row[]) => Compilable<unknown>,
  ) {}

  insert(row: Row): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      // The first row of a batch schedules its flush after the callbacks of this turn have added theirs.
      if (this.waiting.push({ row, resolve, reject }) === 1) setImmediate(() => void this.flush());
    });
  }

  private async flush(): Promise<void> {
    const batch = this.waiting.splice(0, MAX_ROWS_PER_STATEMENT);
    if (this.waiting.length > 0) setImmediate(() => void this.flush());
    if (batch.length === 1) return this.insertOne(batch[0]);
    try {
      await this.db.executeQuery(this.many(batch.map((w) => w.row)).compile());
    } catch (error) {
      // Only a refused row is worth retrying alone; after any other error (a connection lost, maybe
      // after the commit) a retry could refuse rows as duplicates that are in fact stored.
      if (isConstraintViolation(error)) await Promise.all(batch.map((w) => this.insertOne(w)));
      else for (const w of batch) w.reject(error);
      return;
    }
    for (const w of batch) w.resolve();
  }

  private insertOne(w: Waiting<Row>): Promise<void> {
    return this.one.execute(this.db, ...w.row).then(() => w.resolve(), w.reject);
  }
}

/** The database refused a row (a unique, check, not-null or foreign key rule), rather than failing to run the statement. */
function isConstraintViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  // better-sqlite3: SQLITE_CONSTRAINT_UNIQUE, _CHECK, ...; PostgreSQL: SQLSTATE class 23.
  return typeof code === 'string' && (code.startsWith('SQLITE_CONSTRAINT') || /^23[0-9A-Z]{3}$/.test(code));
}
