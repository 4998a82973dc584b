import { SentMailRepository } from './sent-mail';
import { AssetRepository } from './asset-register';
import { Kysely, Migrator, PostgresDialect, sql, type Transaction } from 'kysely';
import { Pool } from 'pg';
import type { StoreLocation } from './location';
import { KnownHostKeyRepository } from './known-host-keys';
import { KnowledgeBaseRepository } from './knowledge-base';
import { storeMigrations } from './migrations';
import { IncidentCatalogRepository } from './incident-catalog';
import { ConflictReproductionRepository } from './conflict-reproductions';
import { PatientSqliteDialect } from './patient-sqlite';
import {
  AuditRepository,
  CalendarRepository,
  InventoryRepository,
  OperationRepository,
  PreApprovalRepository,
  PrincipalRepository,
  ReportRepository,
  RestoreTargetRepository,
  SnapshotRepository,
} from './repositories';
import { RunHostRepository, RunStatusRepository } from './run-hosts';
import type { StoreTables } from './schema';

/** Connections per process to PostgreSQL. */
const PG_POOL_SIZE = 10;

export type StoreDb = Kysely<StoreTables>;
export type StoreTransaction = Transaction<StoreTables>;

/**
 * The state every API and worker replica shares, on SQLite (one machine) or PostgreSQL (any
 * number of machines), through one Kysely schema and one set of repositories. Opening is
 * synchronous; the migrations run on first use (or `ready()`), once per process, and are safe
 * when several processes start at once (PostgreSQL: Kysely's advisory lock; SQLite: the whole
 * migration in one `BEGIN IMMEDIATE` transaction).
 */
export class Store {
  readonly db: StoreDb;
  readonly inventory: InventoryRepository;
  readonly calendar: CalendarRepository;
  readonly preApprovals: PreApprovalRepository;
  readonly operations: OperationRepository;
  readonly snapshots: SnapshotRepository;
  readonly reports: ReportRepository;
  readonly principals: PrincipalRepository;
  readonly audit: AuditRepository;
  readonly restoreTargets: RestoreTargetRepository;
  readonly incidentCatalog: IncidentCatalogRepository;
  readonly conflictReproductions: ConflictReproductionRepository;
  readonly knownHostKeys: KnownHostKeyRepository;
  readonly knowledgeBase: KnowledgeBaseRepository;
  readonly runHosts: RunHostRepository;
  readonly runStatus: RunStatusRepository;
  readonly assets: AssetRepository;
  readonly sentMail: SentMailRepository;
  private migrated: Promise<void> | undefined;

  private constructor(readonly location: StoreLocation) {
    this.db = new Kysely<StoreTables>({ dialect: dialectFor(location) });
    const ready = () => this.ready();
    this.inventory = new InventoryRepository(this.db, ready);
    this.calendar = new CalendarRepository(this.db, ready);
    this.preApprovals = new PreApprovalRepository(this.db, ready);
    this.operations = new OperationRepository(this.db, ready);
    this.snapshots = new SnapshotRepository(this.db, ready);
    this.reports = new ReportRepository(this.db, ready);
    this.principals = new PrincipalRepository(this.db, ready);
    this.audit = new AuditRepository(this.db, ready);
    this.restoreTargets = new RestoreTargetRepository(this.db, ready);
    this.incidentCatalog = new IncidentCatalogRepository(this.db, ready);
    this.conflictReproductions = new ConflictReproductionRepository(this.db, ready);
    this.knownHostKeys = new KnownHostKeyRepository(this.db, ready);
    this.knowledgeBase = new KnowledgeBaseRepository(this.db, ready);
    this.runHosts = new RunHostRepository(this.db, ready);
    this.runStatus = new RunStatusRepository(this.db, ready);
    this.assets = new AssetRepository(this.db, ready);
    this.sentMail = new SentMailRepository(this.db, ready);
  }

  static open(location: StoreLocation): Store {
    return new Store(location);
  }

  /** Resolves once this store's schema is at the latest migration (migrating it if needed). */
  ready(): Promise<void> {
    this.migrated ??= this.migrate().then(
      () => undefined,
      (error: unknown) => {
        this.migrated = undefined; // the next call tries again
        throw error;
      },
    );
    return this.migrated;
  }

  /** Runs the pending migrations; resolves with the names applied (none when up to date). */
  async migrate(): Promise<string[]> {
    if (this.location.kind === 'postgres') return runMigrator(this.db);
    // A dedicated connection holds the write lock for the whole migration, so a second process
    // starting at the same moment waits (busy timeout) and then finds the schema up to date.
    const db = new Kysely<StoreTables>({ dialect: new PatientSqliteDialect(this.location.file) });
    try {
      await sql`begin immediate`.execute(db);
      try {
        const applied = await runMigrator(db, true);
        await sql`commit`.execute(db);
        return applied;
      } catch (error) {
        await sql`rollback`.execute(db).catch(() => undefined);
        throw error;
      }
    } finally {
      await db.destroy();
    }
  }

  /**
   * Runs `work` once per store, ever: the first caller records `source` as imported in the same
   * transaction as the work, so concurrent starts import a legacy file exactly once.
   * Resolves whether this call did the work.
   */
  async importOnce(source: string, work: (trx: StoreTransaction) => Promise<void>): Promise<boolean> {
    await this.ready();
    return this.db.transaction().execute(async (trx) => {
      const claimed = await trx
        .insertInto('imports')
        .values({ source, imported_at: new Date().toISOString() })
        .onConflict((oc) => oc.column('source').doNothing())
        .executeTakeFirst();
      if (Number(claimed.numInsertedOrUpdatedRows ?? 0) === 0) return false;
      await work(trx);
      return true;
    });
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the migrator works on any schema
async function runMigrator(db: Kysely<any>, disableTransactions = false): Promise<string[]> {
  // Migrations are added on parallel branches and named by reservation, so one merged later may
  // sort before one already applied; each is independent of the others' tables.
  const migrator = new Migrator({
    db,
    provider: storeMigrations,
    disableTransactions,
    allowUnorderedMigrations: true,
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(`store migration failed: ${String(error)}`);
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

function dialectFor(location: StoreLocation) {
  if (location.kind === 'postgres') {
    const pool = new Pool({ connectionString: location.url, max: PG_POOL_SIZE });
    // A server that drops an idle connection (a restart, a failover) reports it here; without a
    // listener Node ends the whole process. The pool opens a new connection for the next query.
    pool.on('error', (error) => console.warn(`store: an idle PostgreSQL connection was closed: ${error.message}`));
    return new PostgresDialect({ pool });
  }
  return new PatientSqliteDialect(location.file);
}
