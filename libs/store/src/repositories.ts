import { randomUUID } from 'node:crypto';
import type { ExpressionBuilder, Kysely, Transaction } from 'kysely';
import { BatchedInsert } from './batched-insert';
import { CompiledOnce } from './compiled-query';
import type { StoreTables } from './schema';

type Db = Kysely<StoreTables>;
type Trx = Transaction<StoreTables>;
type Ready = () => Promise<void>;
/** Rows inserted at once: far below either database's limit of bound parameters. */
const INSERT_CHUNK = 500;

/** A versioned document's version (its ETag) and when it last changed (null: never written). */
export interface DocumentVersion {
  version: number;
  updatedAt: string | null;
}

/** A write carried a version (If-Match) that is no longer the current one. */
export class StaleVersionError extends Error {
  constructor(
    readonly document: string,
    readonly expected: number,
    readonly current: number,
  ) {
    super(`the ${document} is at version ${current}, not ${expected}: read it again and retry`);
    this.name = 'StaleVersionError';
  }
}

function now(): string {
  return new Date().toISOString();
}

function count(result: { numInsertedOrUpdatedRows?: bigint; numUpdatedRows?: bigint; numDeletedRows?: bigint }): number {
  return Number(result.numInsertedOrUpdatedRows ?? result.numUpdatedRows ?? result.numDeletedRows ?? 0);
}

/** The version row of a document. */
function versionQuery(db: Db | Trx, name: string) {
  return db.selectFrom('versions').select(['version', 'updated_at']).where('name', '=', name);
}

function documentVersion(row: { version: number | bigint | string; updated_at: string | null } | undefined, name: string): DocumentVersion {
  if (!row) throw new Error(`the store has no ${name} version (its migrations did not run)`);
  return { version: Number(row.version), updatedAt: row.updated_at };
}

async function versionOf(db: Db | Trx, name: string): Promise<DocumentVersion> {
  return documentVersion(await versionQuery(db, name).executeTakeFirst(), name);
}

/**
 * versionOf for a document read on a hot path, compiled once for this store's database (a
 * CompiledOnce keeps the SQL of the first database it runs on, so one per store).
 */
function compiledVersionOf(db: Db, name: string): () => Promise<DocumentVersion> {
  const query = new CompiledOnce(0, () => versionQuery(db, name));
  return async () => documentVersion((await query.execute(db)).rows[0], name);
}

/**
 * Moves the document to its next version, only from `expected` when given. It is the first
 * statement of every write transaction: on SQLite that takes the write lock before any read
 * (so no transaction has to upgrade a read snapshot), on PostgreSQL it locks the version row, so
 * writes of one document are serialized in every backend.
 */
export async function bump(trx: Trx, name: string, expected: number | undefined): Promise<DocumentVersion> {
  let update = trx
    .updateTable('versions')
    .set((eb) => ({ version: eb('version', '+', 1), updated_at: now() }))
    .where('name', '=', name);
  if (expected !== undefined) update = update.where('version', '=', expected);
  const row = await update.returning(['version', 'updated_at']).executeTakeFirst();
  if (!row) throw new StaleVersionError(name, expected ?? -1, (await versionOf(trx, name)).version);
  return { version: Number(row.version), updatedAt: row.updated_at };
}

/** Reads `read` between two reads of the version, again until both agree: a consistent snapshot in any isolation level. */
export async function consistent<T>(db: Db, name: string, read: () => Promise<T>): Promise<DocumentVersion & { value: T }> {
  for (;;) {
    const before = await versionOf(db, name);
    const value = await read();
    const after = await versionOf(db, name);
    if (before.version === after.version) return { ...after, value };
  }
}

/** The host inventory: one row per host (JSON), in inventory order, versioned as a whole. */
export class InventoryRepository {
  /** Compiled once: every host action asks it, to re-read the inventory only when it moved. */
  private readonly currentVersion: () => Promise<DocumentVersion>;

  constructor(
    private readonly db: Db,
    private readonly ready: Ready,
  ) {
    this.currentVersion = compiledVersionOf(db, 'inventory');
  }

  async version(): Promise<DocumentVersion> {
    await this.ready();
    return this.currentVersion();
  }

  async read(): Promise<DocumentVersion & { hosts: string[] }> {
    await this.ready();
    const { value, ...version } = await consistent(this.db, 'inventory', () =>
      this.db.selectFrom('inventory_hosts').select('body').orderBy('position').execute(),
    );
    return { ...version, hosts: value.map((r) => r.body) };
  }

  async get(name: string): Promise<string | undefined> {
    await this.ready();
    const row = await this.db.selectFrom('inventory_hosts').select('body').where('name', '=', name).executeTakeFirst();
    return row?.body;
  }

  /** Replaces every host; with `expected`, only if the inventory is still at that version. */
  async replace(hosts: readonly { name: string; body: string }[], expected?: number, trx?: Trx): Promise<DocumentVersion> {
    await this.ready();
    const write = async (t: Trx) => {
      const version = await bump(t, 'inventory', expected);
      await t.deleteFrom('inventory_hosts').execute();
      for (let i = 0; i < hosts.length; i += INSERT_CHUNK) {
        const rows = hosts.slice(i, i + INSERT_CHUNK).map((h, j) => ({ name: h.name, position: i + j, body: h.body }));
        await t.insertInto('inventory_hosts').values(rows).execute();
      }
      return version;
    };
    return trx ? write(trx) : this.db.transaction().execute(write);
  }
}

/** The restore target policy: one rule per repository (JSON), in policy order, versioned as a whole. */
export class RestoreTargetRepository {
  constructor(
    private readonly db: Db,
    private readonly ready: Ready,
  ) {}

  async read(): Promise<DocumentVersion & { rules: string[] }> {
    await this.ready();
    const { value, ...version } = await consistent(this.db, 'restore-targets', () =>
      this.db.selectFrom('restore_target_rules').select('body').orderBy('position').execute(),
    );
    return { ...version, rules: value.map((r) => r.body) };
  }

  /** Replaces every rule; with `expected`, only if the policy is still at that version. */
  async replace(rules: readonly { repository: string; body: string }[], expected?: number): Promise<DocumentVersion> {
    await this.ready();
    return this.db.transaction().execute(async (t) => {
      const version = await bump(t, 'restore-targets', expected);
      await t.deleteFrom('restore_target_rules').execute();
      for (let i = 0; i < rules.length; i += INSERT_CHUNK) {
        const rows = rules.slice(i, i + INSERT_CHUNK).map((r, j) => ({ repository: r.repository, position: i + j, body: r.body }));
        await t.insertInto('restore_target_rules').values(rows).execute();
      }
      return version;
    });
  }
}

export type CalendarKind = 'window' | 'freeze';
const CALENDAR_TABLES = { window: 'maintenance_windows', freeze: 'change_freezes' } as const;

/** Maintenance windows and change freezes, one row each (JSON) by unique name, versioned as one calendar. */
export class CalendarRepository {
  constructor(
    private readonly db: Db,
    private readonly ready: Ready,
  ) {}

  async read(): Promise<DocumentVersion & { windows: string[]; freezes: string[] }> {
    await this.ready();
    const { value, ...version } = await consistent(this.db, 'calendar', async () => {
      const list = (kind: CalendarKind) =>
        this.db.selectFrom(CALENDAR_TABLES[kind]).select('body').orderBy('created_at').orderBy('name').execute();
      return { windows: await list('window'), freezes: await list('freeze') };
    });
    return { ...version, windows: value.windows.map((r) => r.body), freezes: value.freezes.map((r) => r.body) };
  }

  /** Adds or replaces the entry of that name (keeping its place); with `expected`, only at that version. */
  async put(kind: CalendarKind, name: string, body: string, expected?: number, trx?: Trx): Promise<DocumentVersion> {
    await this.ready();
    const write = async (t: Trx) => {
      const version = await bump(t, 'calendar', expected);
      await t
        .insertInto(CALENDAR_TABLES[kind])
        .values({ name, body, created_at: now() })
        .onConflict((oc) => oc.column('name').doUpdateSet({ body }))
        .execute();
      return version;
    };
    return trx ? write(trx) : this.db.transaction().execute(write);
  }

  /** Removes the entry of that name; `existed: false` (and no new version) when there was none. */
  async remove(kind: CalendarKind, name: string, expected?: number): Promise<DocumentVersion & { existed: boolean }> {
    await this.ready();
    const missing = Symbol('missing');
    try {
      return await this.db.transaction().execute(async (t) => {
        const version = await bump(t, 'calendar', expected);
        const deleted = await t.deleteFrom(CALENDAR_TABLES[kind]).where('name', '=', name).executeTakeFirst();
        if (count(deleted) === 0) throw missing; // rolls the version back
        return { ...version, existed: true };
      });
    } catch (error) {
      if (error !== missing) throw error;
      return { ...(await versionOf(this.db, 'calendar')), existed: false };
    }
  }
}

export interface PreApprovalRow {
  id: string;
  scheduleId: string;
  gateId: string;
  at: string;
  /** The approval as given (JSON), without consumedBy and voidedBecause. */
  body: string;
  consumedBy: string | null;
  voidedBecause: string | null;
}

/** Approvals given ahead: added by the API, each claimed once, ever, by one conditional update. */
export class PreApprovalRepository {
  constructor(
    private readonly db: Db,
    private readonly ready: Ready,
  ) {}

  async add(row: Omit<PreApprovalRow, 'consumedBy' | 'voidedBecause'>, trx?: Trx): Promise<void> {
    await this.ready();
    await (trx ?? this.db)
      .insertInto('pre_approvals')
      .values({ id: row.id, schedule_id: row.scheduleId, gate_id: row.gateId, at: row.at, body: row.body })
      .execute();
  }

  /** Every approval given ahead (of one schedule), oldest first. */
  async list(filter: { scheduleId?: string; gateId?: string; consumedBy?: string; open?: boolean } = {}): Promise<PreApprovalRow[]> {
    await this.ready();
    let query = this.db.selectFrom('pre_approvals').selectAll();
    if (filter.scheduleId !== undefined) query = query.where('schedule_id', '=', filter.scheduleId);
    if (filter.gateId !== undefined) query = query.where('gate_id', '=', filter.gateId);
    if (filter.consumedBy !== undefined) query = query.where('consumed_by', '=', filter.consumedBy);
    if (filter.open) query = query.where('consumed_by', 'is', null);
    const rows = await query.orderBy('at').orderBy('id').execute();
    return rows.map((r) => ({
      id: r.id,
      scheduleId: r.schedule_id,
      gateId: r.gate_id,
      at: r.at,
      body: r.body,
      consumedBy: r.consumed_by,
      voidedBecause: r.voided_because,
    }));
  }

  /** Marks it used by `runId` if nobody used it yet: one atomic conditional UPDATE; resolves whether this call won. */
  async claim(id: string, runId: string, voidedBecause: string | null, trx?: Trx): Promise<boolean> {
    await this.ready();
    const result = await (trx ?? this.db)
      .updateTable('pre_approvals')
      .set({ consumed_by: runId, voided_because: voidedBecause })
      .where('id', '=', id)
      .where('consumed_by', 'is', null)
      .executeTakeFirst();
    return count(result) === 1;
  }
}

/** One claimed (and maybe applied) host operation. */
export interface OperationRow {
  scope: string;
  host: string;
  op: string;
  key: string;
  owner: string;
  attempt: number;
  claimedAt: string;
  leaseUntil: string;
  /** The applied operation's result (JSON); null while it is being applied. */
  result: string | null;
  appliedAt: string | null;
}

export interface OperationId {
  scope: string;
  host: string;
  op: string;
  key: string;
}

/**
 * The host-operation ledger's rows. A key is claimed by inserting its row (the primary key makes
 * the claim unique across every process) before the change is applied; the result is recorded on
 * the row after. See OperationLedger (activities) for the rule on claims whose owner died.
 */
export class OperationRepository {
  constructor(
    private readonly db: Db,
    private readonly ready: Ready,
  ) {}

  /** Inserts the claim; resolves whether this call made it (false: someone claimed the key before). */
  async claim(id: OperationId, owner: string, leaseUntil: string): Promise<boolean> {
    await this.ready();
    const result = await this.db
      .insertInto('host_operations')
      .values({ ...id, owner, attempt: 1, claimed_at: now(), lease_until: leaseUntil, result: null, applied_at: null })
      .onConflict((oc) => oc.columns(['scope', 'host', 'op', 'key']).doNothing())
      .executeTakeFirst();
    return count(result) === 1;
  }

  async find(id: OperationId): Promise<OperationRow | undefined> {
    await this.ready();
    const row = await this.db.selectFrom('host_operations').selectAll().where(sameOperation(id)).executeTakeFirst();
    return row && toOperation(row);
  }

  /** Extends the lease of a claim this owner still holds; false when it lost the claim. */
  async renew(id: OperationId, owner: string, attempt: number, leaseUntil: string): Promise<boolean> {
    await this.ready();
    const result = await this.db
      .updateTable('host_operations')
      .set({ lease_until: leaseUntil })
      .where(sameOperation(id))
      .where('owner', '=', owner)
      .where('attempt', '=', attempt)
      .where('result', 'is', null)
      .executeTakeFirst();
    return count(result) === 1;
  }

  /** Takes over a claim whose lease ran out without a result; only one taker wins (the attempt number moves on). */
  async takeOver(seen: OperationRow, owner: string, leaseUntil: string): Promise<boolean> {
    await this.ready();
    const result = await this.db
      .updateTable('host_operations')
      .set({ owner, attempt: seen.attempt + 1, claimed_at: now(), lease_until: leaseUntil })
      .where(sameOperation(seen))
      .where('attempt', '=', seen.attempt)
      .where('result', 'is', null)
      .where('lease_until', '<', now())
      .executeTakeFirst();
    return count(result) === 1;
  }

  /** Records the result of the claim this owner holds; false when it lost the claim meanwhile. */
  async record(id: OperationId, owner: string, attempt: number, result: string): Promise<boolean> {
    await this.ready();
    const updated = await this.db
      .updateTable('host_operations')
      .set({ result, applied_at: now() })
      .where(sameOperation(id))
      .where('owner', '=', owner)
      .where('attempt', '=', attempt)
      .where('result', 'is', null)
      .executeTakeFirst();
    return count(updated) === 1;
  }

  /** Gives a claim up (its apply failed and changed nothing), so a retry claims the key afresh. */
  async release(id: OperationId, owner: string, attempt: number): Promise<void> {
    await this.ready();
    await this.db
      .deleteFrom('host_operations')
      .where(sameOperation(id))
      .where('owner', '=', owner)
      .where('attempt', '=', attempt)
      .where('result', 'is', null)
      .execute();
  }

  /** Records an operation applied before the store existed (the lab's old ledger file); a key already present is kept. */
  async importApplied(id: OperationId, result: string, appliedAt: string, trx: Trx): Promise<void> {
    await trx
      .insertInto('host_operations')
      .values({ ...id, owner: 'import', attempt: 1, claimed_at: appliedAt, lease_until: appliedAt, result, applied_at: appliedAt })
      .onConflict((oc) => oc.columns(['scope', 'host', 'op', 'key']).doNothing())
      .execute();
  }

  /** The applied operations of a scope, in the order applied. */
  async applied(scope: string): Promise<OperationRow[]> {
    await this.ready();
    const rows = await this.db
      .selectFrom('host_operations')
      .selectAll()
      .where('scope', '=', scope)
      .where('result', 'is not', null)
      .orderBy('applied_at')
      .orderBy('host')
      .execute();
    return rows.map(toOperation);
  }
}

function sameOperation(id: OperationId) {
  return (eb: ExpressionBuilder<StoreTables, 'host_operations'>) =>
    eb.and([eb('scope', '=', id.scope), eb('host', '=', id.host), eb('op', '=', id.op), eb('key', '=', id.key)]);
}

function toOperation(r: StoreTables['host_operations']): OperationRow {
  return {
    scope: r.scope,
    host: r.host,
    op: r.op,
    key: r.key,
    owner: r.owner,
    attempt: Number(r.attempt),
    claimedAt: r.claimed_at,
    leaseUntil: r.lease_until,
    result: r.result,
    appliedAt: r.applied_at,
  };
}

/** What host snapshots recorded (ssh/local drivers), so a rollback on any worker finds them. */
export class SnapshotRepository {
  constructor(
    private readonly db: Db,
    private readonly ready: Ready,
  ) {}

  /** Records the snapshot; a retried snapshot of the same id replaces its record. */
  async put(scope: string, snapshotId: string, host: string, takenAt: string, body: string): Promise<void> {
    await this.ready();
    await this.db
      .insertInto('host_snapshots')
      .values({ scope, snapshot_id: snapshotId, host, taken_at: takenAt, body })
      .onConflict((oc) => oc.columns(['scope', 'snapshot_id']).doUpdateSet({ host, taken_at: takenAt, body }))
      .execute();
  }

  async get(scope: string, snapshotId: string): Promise<{ host: string; takenAt: string; body: string } | undefined> {
    await this.ready();
    const row = await this.db
      .selectFrom('host_snapshots')
      .select(['host', 'taken_at', 'body'])
      .where('scope', '=', scope)
      .where('snapshot_id', '=', snapshotId)
      .executeTakeFirst();
    return row && { host: row.host, takenAt: row.taken_at, body: row.body };
  }
}

/** Run reports, written at the end of a run and kept past Temporal's retention. */
export class ReportRepository {
  constructor(
    private readonly db: Db,
    private readonly ready: Ready,
  ) {}

  /**
   * Stores the report of a run, with its runbook and how it ended; a retried write (same workflow
   * id) replaces it, as it replaces the files, and keeps its time unless the workflow id now names
   * another run (an idempotency key reused), so runs keep the order they ended in. True when this
   * was the first write for the run, on whichever worker it ran: the insert is the one that
   * decides, so a run's end is counted once.
   */
  async put(workflowId: string, runId: string, body: string, ended?: { runbook: string; outcome: string }): Promise<boolean> {
    await this.ready();
    const at = now();
    const labels = ended ? { runbook: ended.runbook, outcome: ended.outcome } : {};
    const inserted = await this.db
      .insertInto('run_reports')
      .values({ workflow_id: workflowId, run_id: runId, created_at: at, body, ...labels })
      .onConflict((oc) => oc.column('workflow_id').doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0) return true;
    await this.db
      .updateTable('run_reports')
      .set((eb) => ({
        run_id: runId,
        created_at: eb.case().when('run_id', '=', runId).then(eb.ref('created_at')).else(at).end(),
        body,
        ...labels,
      }))
      .where('workflow_id', '=', workflowId)
      .execute();
    return false;
  }

  /**
   * For each runbook, how many of its runs ended with an outcome in `failed` since its last run that
   * ended in `succeeded` (by report time; all its reports kept when none succeeded): runbooks with
   * none are left out. Reports the retention forgot no longer count.
   */
  async failingInARow(
    failed: readonly [string, ...string[]],
    succeeded: readonly [string, ...string[]],
  ): Promise<Array<{ runbook: string; count: number }>> {
    await this.ready();
    const rows = await this.db
      .selectFrom('run_reports as f')
      .select((eb) => ['f.runbook', eb.fn.countAll<number | string>().as('count')])
      .where('f.runbook', 'is not', null)
      .where('f.outcome', 'in', [...failed])
      .where((eb) =>
        eb(
          'f.created_at',
          '>',
          eb.fn.coalesce(
            eb
              .selectFrom('run_reports as s')
              .select((inner) => inner.fn.max<string>('s.created_at').as('at'))
              .whereRef('s.runbook', '=', 'f.runbook')
              .where('s.outcome', 'in', [...succeeded]),
            eb.val(''),
          ),
        ),
      )
      .groupBy('f.runbook')
      .execute();
    return rows.map((r) => ({ runbook: r.runbook as string, count: Number(r.count) }));
  }

  /** A run's report; runbook and outcome are absent on one written without them whose body did not name them (migration 0015). */
  async get(
    workflowId: string,
  ): Promise<{ runId: string; createdAt: string; body: string; runbook?: string; outcome?: string } | undefined> {
    await this.ready();
    const row = await this.db.selectFrom('run_reports').selectAll().where('workflow_id', '=', workflowId).executeTakeFirst();
    return (
      row && {
        runId: row.run_id,
        createdAt: row.created_at,
        body: row.body,
        ...(row.runbook === null ? {} : { runbook: row.runbook }),
        ...(row.outcome === null ? {} : { outcome: row.outcome }),
      }
    );
  }

  /**
   * Forgets runs that ended before `cutoff` (ISO time), oldest first: their host rows, status copy
   * and report. A run that left no report (it failed before writing one) is found by its status
   * copy, when that copy's status is one of `endedStatuses`; a report whose run id names a run
   * going again (an idempotency key reused after Temporal forgot the first run) is left alone.
   * At most `limit` runs, and about `rowBudget` host rows, per call: a 100,000-host fleet run is
   * forgotten over several calls, its host rows in chunks of PRUNE_CHUNK, each its own short
   * transaction, and its report and status copy last, in one transaction, once no host row is
   * left (a run is found again by its report until then). Idempotent: two workers pruning at once
   * delete each row once. Returns the runs wholly forgotten by this call or, at the same moment,
   * by another instance.
   */
  async pruneEndedBefore(cutoff: string, endedStatuses: readonly string[], limit: number, rowBudget = 20_000): Promise<string[]> {
    await this.ready();
    const ended = [...endedStatuses];
    const reported = await this.db
      .selectFrom('run_reports')
      .leftJoin('run_status', 'run_status.run_id', 'run_reports.workflow_id')
      .select('run_reports.workflow_id as runId')
      .where('run_reports.created_at', '<', cutoff)
      .where((eb) => eb.or([eb('run_status.status', 'is', null), eb('run_status.status', 'in', ended)]))
      .orderBy('run_reports.created_at')
      .limit(limit)
      .execute();
    const unreported = await this.db
      .selectFrom('run_status')
      .select('run_id as runId')
      .where('status', 'in', ended)
      .where('updated_at', '<', cutoff)
      .orderBy('updated_at')
      .limit(limit)
      .execute();
    return this.forget([...new Set([...reported, ...unreported].map((r) => r.runId))].slice(0, limit), rowBudget);
  }

  /**
   * Runs whose status copy is not one of `endedStatuses` and has not changed since `cutoff`, at most
   * `limit`: those never asked about first, then those asked about longest ago (checkedOpen), each
   * group oldest first. A run ended from outside (terminated, timed out) publishes no last copy and
   * writes no report, so its copy says running for ever: only Temporal can tell whether such a run
   * is over (the caller asks it, then forgets the ones that are). Runs found open go to the back, so
   * however many stay open, every idle run is asked about in turn.
   */
  async unendedIdleBefore(cutoff: string, endedStatuses: readonly string[], limit: number): Promise<string[]> {
    await this.ready();
    const rows = await this.db
      .selectFrom('run_status')
      .select('run_id as runId')
      .where('status', 'not in', [...endedStatuses])
      .where('updated_at', '<', cutoff)
      .orderBy((eb) => eb.fn.coalesce('checked_at', eb.val('')))
      .orderBy('updated_at')
      .limit(limit)
      .execute();
    return rows.map((r) => r.runId);
  }

  /** Notes that Temporal said these idle runs are still open (at `at`, ISO time): unendedIdleBefore asks about them last. */
  async checkedOpen(runIds: readonly string[], at: string): Promise<void> {
    await this.ready();
    if (runIds.length === 0) return;
    await this.db
      .updateTable('run_status')
      .set({ checked_at: at })
      .where('run_id', 'in', [...runIds])
      .execute();
  }

  /**
   * Forgets these runs, in order: host rows in chunks of PRUNE_CHUNK (about `rowBudget` in all),
   * then report and status copy together, once no host row is left. Returns the runs wholly
   * forgotten; one cut short by the budget is forgotten by a later call. With `idleBefore`, only
   * while the run's status copy is still older than that: a run started again under the same id
   * (its idempotency key reused) publishes a new copy at once, and that run is left alone.
   */
  async forget(runIds: readonly string[], rowBudget = 20_000, idleBefore?: string): Promise<string[]> {
    await this.ready();
    const forgotten: string[] = [];
    let budget = rowBudget;
    const stillIdle = async (runId: string) =>
      !idleBefore ||
      (await this.db
        .selectFrom('run_status')
        .select('run_id')
        .where('run_id', '=', runId)
        .where('updated_at', '<', idleBefore)
        .executeTakeFirst()) !== undefined;
    for (const runId of runIds) {
      if (!(await stillIdle(runId))) continue;
      for (;;) {
        const chunk = Math.min(PRUNE_CHUNK, budget);
        if (chunk <= 0) return forgotten;
        const deleted = await this.db
          .deleteFrom('run_hosts')
          .where('run_id', '=', runId)
          .where('host', 'in', (eb) => eb.selectFrom('run_hosts').select('host').where('run_id', '=', runId).limit(chunk))
          .executeTakeFirst();
        budget -= count(deleted);
        if (count(deleted) < chunk) break;
      }
      const gone = await this.db.transaction().execute(async (trx) => {
        const status = await trx
          .deleteFrom('run_status')
          .where('run_id', '=', runId)
          .$if(idleBefore !== undefined, (q) => q.where('updated_at', '<', idleBefore as string))
          .executeTakeFirst();
        if (idleBefore && count(status) === 0) return false; // started again meanwhile
        await trx.deleteFrom('run_reports').where('workflow_id', '=', runId).execute();
        return true;
      });
      if (gone) forgotten.push(runId);
    }
    return forgotten;
  }
}

/** Host rows deleted per statement while pruning: each a short transaction, never a long write lock. */
export const PRUNE_CHUNK = 2_000;

export interface TokenRow {
  id: string;
  principalId: string;
  label: string;
  createdAt: string;
  createdBy: string;
  revokedAt: string | null;
  revokedBy: string | null;
}

/** Principals (JSON) and their bearer tokens, kept as sha256 only; a revoked token never authenticates again. */
export class PrincipalRepository {
  constructor(
    private readonly db: Db,
    private readonly ready: Ready,
  ) {}

  async putPrincipal(id: string, body: string, trx?: Trx): Promise<void> {
    await this.ready();
    await (trx ?? this.db)
      .insertInto('principals')
      .values({ id, body, created_at: now() })
      .onConflict((oc) => oc.column('id').doUpdateSet({ body }))
      .execute();
  }

  async principal(id: string): Promise<string | undefined> {
    await this.ready();
    return (await this.db.selectFrom('principals').select('body').where('id', '=', id).executeTakeFirst())?.body;
  }

  async principalCount(): Promise<number> {
    await this.ready();
    const row = await this.db
      .selectFrom('principals')
      .select((eb) => eb.fn.countAll<string | number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async addToken(token: { principalId: string; tokenSha256: string; label: string; createdBy: string }, trx?: Trx): Promise<TokenRow> {
    await this.ready();
    const row = {
      id: randomUUID(),
      principal_id: token.principalId,
      token_sha256: token.tokenSha256,
      label: token.label,
      created_at: now(),
      created_by: token.createdBy,
      revoked_at: null,
      revoked_by: null,
    };
    await (trx ?? this.db).insertInto('tokens').values(row).execute();
    return toToken(row);
  }

  /** The principal (JSON) of a live token with this sha256 (hex), read from the database on every call. */
  async authenticate(tokenSha256: string): Promise<string | undefined> {
    await this.ready();
    const { rows } = await this.liveTokenPrincipal.execute(this.db, tokenSha256);
    return rows[0]?.body;
  }

  /** On every authenticated request: compiled once. */
  private readonly liveTokenPrincipal = new CompiledOnce(1, (tokenSha256: string) =>
    this.db
      .selectFrom('tokens')
      .innerJoin('principals', 'principals.id', 'tokens.principal_id')
      .select('principals.body')
      .where('tokens.token_sha256', '=', tokenSha256)
      .where('tokens.revoked_at', 'is', null),
  );

  async tokens(principalId?: string): Promise<TokenRow[]> {
    await this.ready();
    let query = this.db.selectFrom('tokens').selectAll();
    if (principalId !== undefined) query = query.where('principal_id', '=', principalId);
    return (await query.orderBy('created_at').orderBy('id').execute()).map(toToken);
  }

  /** The sha256 (hex) a token is kept as, or undefined when there is no such token. */
  async tokenSha256(id: string): Promise<string | undefined> {
    await this.ready();
    return (await this.db.selectFrom('tokens').select('token_sha256').where('id', '=', id).executeTakeFirst())?.token_sha256;
  }

  /** Revokes a live token; resolves the token as it is now, or undefined when there is no such token. */
  async revoke(id: string, by: string): Promise<TokenRow | undefined> {
    await this.ready();
    await this.db
      .updateTable('tokens')
      .set({ revoked_at: now(), revoked_by: by })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .execute();
    const row = await this.db.selectFrom('tokens').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toToken(row);
  }
}

function toToken(r: StoreTables['tokens']): TokenRow {
  return {
    id: r.id,
    principalId: r.principal_id,
    label: r.label,
    createdAt: r.created_at,
    createdBy: r.created_by,
    revokedAt: r.revoked_at,
    revokedBy: r.revoked_by,
  };
}

export interface AuditEntry {
  id: string;
  at: string;
  /** The principal id that acted, or `system`. */
  actor: string;
  /** What was done, e.g. `run.launch`, `approval.decide`, `inventory.replace`, `token.revoke`. */
  action: string;
  /** What it was done to: a run's workflow id, a schedule id, `inventory`, a token id. */
  target: string;
  detail: unknown;
}

export interface AuditQuery {
  actor?: string;
  action?: string;
  target?: string;
  /** ISO time, inclusive. */
  since?: string;
  /** ISO time, exclusive. */
  until?: string;
  limit: number;
  /** Continue after this entry (the `nextCursor` of a previous page). */
  after?: { at: string; id: string };
}

let auditSequence = 0;

/** An audit row's columns in insert order: id, at, actor, action, target, detail (JSON). */
type AuditRowValues = [id: string, at: string, actor: string, action: string, target: string, detail: string];

/** The append-only audit log: entries are inserted, never updated or deleted. Pages go newest first. */
export class AuditRepository {
  /** Concurrent API writes' entries, one commit per turn of the event loop. */
  private readonly batched: BatchedInsert<AuditRowValues>;

  constructor(
    private readonly db: Db,
    private readonly ready: Ready,
  ) {
    this.batched = new BatchedInsert<AuditRowValues>(db, this.insert, (rows) =>
      db.insertInto('audit_log').values(rows.map(([id, at, actor, action, target, detail]) => ({ id, at, actor, action, target, detail }))),
    );
  }

  async append(entry: Omit<AuditEntry, 'id' | 'at'>, trx?: Trx): Promise<AuditEntry> {
    await this.ready();
    // Ids sort in the order this process appended (entries of one millisecond keep their order).
    const id = `${String(auditSequence++).padStart(12, '0')}-${randomUUID().slice(0, 8)}`;
    const row = { id, at: now(), actor: entry.actor, action: entry.action, target: entry.target };
    const values: AuditRowValues = [row.id, row.at, row.actor, row.action, row.target, JSON.stringify(entry.detail ?? null)];
    // In a caller's transaction the entry commits with it; otherwise with the entries appended beside it.
    await (trx ? this.insert.execute(trx, ...values) : this.batched.insert(values));
    return { ...row, detail: entry.detail ?? null };
  }

  /** On every write through the API: compiled once. */
  private readonly insert = new CompiledOnce<AuditRowValues, unknown>(6, (id, at, actor, action, target, detail) =>
    this.db.insertInto('audit_log').values({ id, at, actor, action, target, detail }),
  );

  async list(query: AuditQuery): Promise<AuditEntry[]> {
    await this.ready();
    let q = this.db.selectFrom('audit_log').selectAll();
    if (query.actor !== undefined) q = q.where('actor', '=', query.actor);
    if (query.action !== undefined) q = q.where('action', '=', query.action);
    if (query.target !== undefined) q = q.where('target', '=', query.target);
    if (query.since !== undefined) q = q.where('at', '>=', query.since);
    if (query.until !== undefined) q = q.where('at', '<', query.until);
    const after = query.after;
    if (after) q = q.where((eb) => eb.or([eb('at', '<', after.at), eb.and([eb('at', '=', after.at), eb('id', '<', after.id)])]));
    const rows = await q.orderBy('at', 'desc').orderBy('id', 'desc').limit(query.limit).execute();
    return rows.map((r) => ({ id: r.id, at: r.at, actor: r.actor, action: r.action, target: r.target, detail: JSON.parse(r.detail) }));
  }
}
