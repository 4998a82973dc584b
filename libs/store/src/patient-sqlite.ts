import type SQLite from 'better-sqlite3';
import {
  SqliteDialect,
  type CompiledQuery,
  type DatabaseConnection,
  type Driver,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';
import fs from 'node:fs';
import path from 'node:path';

/** How long a statement keeps retrying while another connection holds SQLite's write lock. */
const BUSY_GIVE_UP_MS = 30_000;
const BUSY_FIRST_WAIT_MS = 2;
const BUSY_MAX_WAIT_MS = 50;

/**
 * Kysely's SQLite dialect, waiting for a busy database without blocking the event loop.
 * better-sqlite3 is synchronous: its own busy timeout sleeps the whole thread, so a connection
 * waiting for the write lock also stops the code that would release it when both are in one
 * process (two stores in a test, the worker's activities and its report writer). Here the busy
 * timeout is 0 and a statement refused with SQLITE_BUSY is retried after an asynchronous pause.
 * Write transactions begin with a write (see `bump`), so a retried statement never needs a newer
 * read snapshot (SQLITE_BUSY_SNAPSHOT, not retried).
 */
export class PatientSqliteDialect extends SqliteDialect {
  constructor(file: string) {
    super({ database: async () => reusePreparedStatements(openSqlite(file)) });
  }

  override createDriver(): Driver {
    return new PatientDriver(super.createDriver());
  }
}

/** Opens the file in WAL mode: readers never block the writer nor each other, across processes. */
export function openSqlite(file: string): SQLite.Database {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only where SQLite is used
  const Database = require('better-sqlite3') as typeof SQLite;
  const database = new Database(file, { timeout: 5_000 }); // for the pragmas below only
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma('foreign_keys = ON');
  database.pragma('busy_timeout = 0');
  return database;
}

/** Distinct statements kept prepared per connection; the store's queries are far fewer. */
const MAX_PREPARED_STATEMENTS = 500;

/**
 * Kysely's SQLite driver prepares every query's SQL again on each call; preparing cost about as
 * much as running the store's small indexed lookups (a token, an audit insert) on every request.
 * The same SQL text gets the same prepared statement back, unless that one is busy (a stream
 * still iterating it). SQLite re-prepares a statement itself when the schema changed.
 */
function reusePreparedStatements(database: SQLite.Database): SQLite.Database {
  const prepare = database.prepare.bind(database);
  const prepared = new Map<string, SQLite.Statement>();
  database.prepare = ((sql: string) => {
    const kept = prepared.get(sql);
    if (kept && !kept.busy) return kept;
    const statement = prepare(sql);
    if (!kept) {
      if (prepared.size >= MAX_PREPARED_STATEMENTS) prepared.delete(prepared.keys().next().value as string);
      prepared.set(sql, statement);
    }
    return statement;
  }) as SQLite.Database['prepare'];
  return database;
}

class PatientDriver implements Driver {
  constructor(private readonly inner: Driver) {}

  init(): Promise<void> {
    return this.inner.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    return new PatientConnection(await this.inner.acquireConnection());
  }

  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return this.inner.beginTransaction(connection, settings);
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return this.inner.commitTransaction(connection);
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return this.inner.rollbackTransaction(connection);
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return this.inner.releaseConnection(connection);
  }

  destroy(): Promise<void> {
    return this.inner.destroy();
  }
}

class PatientConnection implements DatabaseConnection {
  constructor(private readonly inner: DatabaseConnection) {}

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    const giveUpAt = Date.now() + BUSY_GIVE_UP_MS;
    for (let wait = BUSY_FIRST_WAIT_MS; ; wait = Math.min(wait * 2, BUSY_MAX_WAIT_MS)) {
      try {
        return await this.inner.executeQuery<R>(query);
      } catch (error) {
        const code = (error as { code?: string }).code;
        if ((code !== 'SQLITE_BUSY' && code !== 'SQLITE_LOCKED') || Date.now() > giveUpAt) throw error;
        await new Promise((resolve) => setTimeout(resolve, wait * (0.5 + Math.random())));
      }
    }
  }

  streamQuery<R>(query: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    return this.inner.streamQuery<R>(query, chunkSize);
  }
}
