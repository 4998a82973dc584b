import type { Kysely, Transaction } from 'kysely';
import { CompiledOnce } from './compiled-query';
import type { StoreTables } from './schema';

type Db = Kysely<StoreTables>;
type Ready = () => Promise<void>;
/** Rows written at once: far below either database's limit of bound parameters (13 columns each). */
const WRITE_CHUNK = 200;

/** One host of a fleet run as the store keeps it. */
export interface RunHostRow {
  host: string;
  wave: number;
  batch: number;
  state: string;
  attempts: number;
  snapshotId?: string;
  error?: string;
  /** The package changes the procedure made (JSON-serializable). */
  changed?: unknown;
  startedAt?: string;
  endedAt?: string;
}

/** What a batch reports about one host; the plan's wave, batch and position stay as they were. */
export type RunHostOutcome = Omit<RunHostRow, 'wave' | 'batch'>;

export interface RunHostPage {
  hosts: RunHostRow[];
  /** Hosts matching the filter, over all pages. */
  total: number;
}

/**
 * Per-host records of fleet runs, out of the workflow's state so a run's payloads do not grow with
 * its fleet. The plan writes one pending row per host; batches rewrite their hosts' rows with what
 * happened (keyed by run and host: a retried write rewrites the same row, never adds one).
 */
export class RunHostRepository {
  constructor(
    private readonly db: Db,
    private readonly ready: Ready,
  ) {}

  /** Records the run's plan: every host pending, in its wave and batch. A retried plan leaves rows already written as they are. */
  async plan(runId: string, waves: readonly (readonly string[])[], batchSize: number): Promise<number> {
    await this.ready();
    const at = new Date().toISOString();
    const rows: StoreTables['run_hosts'][] = [];
    waves.forEach((hosts, wave) =>
      hosts.forEach((host, i) =>
        rows.push({
          run_id: runId,
          host,
          position: rows.length,
          wave,
          batch: Math.floor(i / batchSize),
          state: 'pending',
          attempts: 0,
          snapshot_id: null,
          error: null,
          changed: null,
          started_at: null,
          ended_at: null,
          updated_at: at,
        }),
      ),
    );
    await this.db.transaction().execute(async (trx) => {
      for (let i = 0; i < rows.length; i += WRITE_CHUNK) {
        await trx
          .insertInto('run_hosts')
          .values(rows.slice(i, i + WRITE_CHUNK))
          .onConflict((oc) => oc.columns(['run_id', 'host']).doNothing())
          .execute();
      }
    });
    return rows.length;
  }

  /** The hosts of one batch of a wave, in plan order. */
  async batch(runId: string, wave: number, batch: number): Promise<string[]> {
    await this.ready();
    const rows = await this.db
      .selectFrom('run_hosts')
      .select('host')
      .where('run_id', '=', runId)
      .where('wave', '=', wave)
      .where('batch', '=', batch)
      .orderBy('position')
      .execute();
    return rows.map((r) => r.host);
  }

  /**
   * Writes what happened on each host (an upsert keyed by run and host). A host the plan did not
   * record (a run planned before the store kept hosts) gets a row at the end, in its given wave.
   */
  async record(runId: string, outcomes: readonly (RunHostOutcome & { wave: number; batch?: number })[]): Promise<void> {
    await this.ready();
    const at = new Date().toISOString();
    await this.db.transaction().execute(async (trx) => {
      const base = await nextPosition(trx, runId);
      const rows = outcomes.map((o, i) => ({
        run_id: runId,
        host: o.host,
        position: base + i,
        wave: o.wave,
        batch: o.batch ?? 0,
        state: o.state,
        attempts: o.attempts,
        snapshot_id: o.snapshotId ?? null,
        error: o.error ?? null,
        changed: o.changed === undefined ? null : JSON.stringify(o.changed),
        started_at: o.startedAt ?? null,
        ended_at: o.endedAt ?? null,
        updated_at: at,
      }));
      for (let i = 0; i < rows.length; i += WRITE_CHUNK) {
        await trx
          .insertInto('run_hosts')
          .values(rows.slice(i, i + WRITE_CHUNK))
          .onConflict((oc) =>
            oc.columns(['run_id', 'host']).doUpdateSet((eb) => ({
              state: eb.ref('excluded.state'),
              attempts: eb.ref('excluded.attempts'),
              snapshot_id: eb.ref('excluded.snapshot_id'),
              error: eb.ref('excluded.error'),
              changed: eb.ref('excluded.changed'),
              started_at: eb.ref('excluded.started_at'),
              ended_at: eb.ref('excluded.ended_at'),
              updated_at: eb.ref('excluded.updated_at'),
            })),
          )
          .execute();
      }
    });
  }

  /** The run stopped: every host still pending is skipped, with the reason. Returns how many. */
  async skipPending(runId: string, reason: string): Promise<number> {
    await this.ready();
    const result = await this.db
      .updateTable('run_hosts')
      .set({ state: 'skipped', error: reason, updated_at: new Date().toISOString() })
      .where('run_id', '=', runId)
      .where('state', '=', 'pending')
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /** A page of the run's hosts in plan order, optionally of one state. */
  async page(runId: string, options: { state?: string; offset: number; limit: number }): Promise<RunHostPage> {
    await this.ready();
    let query = this.db.selectFrom('run_hosts').where('run_id', '=', runId);
    if (options.state) query = query.where('state', '=', options.state);
    const [rows, count] = await Promise.all([
      query.selectAll().orderBy('position').offset(options.offset).limit(options.limit).execute(),
      query.select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { hosts: rows.map(fromRow), total: Number(count.n) };
  }

  /** Every host of the run, in plan order (the report). */
  async all(runId: string): Promise<RunHostRow[]> {
    await this.ready();
    const rows = await this.db.selectFrom('run_hosts').selectAll().where('run_id', '=', runId).orderBy('position').execute();
    return rows.map(fromRow);
  }

  /** One host of the run, if the run has it. */
  async get(runId: string, host: string): Promise<RunHostRow | undefined> {
    await this.ready();
    const row = await this.db.selectFrom('run_hosts').selectAll().where('run_id', '=', runId).where('host', '=', host).executeTakeFirst();
    return row && fromRow(row);
  }

  /** Whether the store holds host records of the run. */
  async has(runId: string): Promise<boolean> {
    await this.ready();
    return (await this.db.selectFrom('run_hosts').select('host').where('run_id', '=', runId).limit(1).executeTakeFirst()) !== undefined;
  }
}

async function nextPosition(trx: Transaction<StoreTables>, runId: string): Promise<number> {
  const row = await trx
    .selectFrom('run_hosts')
    .select((eb) => eb.fn.max<number | string | null>('position').as('last'))
    .where('run_id', '=', runId)
    .executeTakeFirst();
  return row?.last === null || row?.last === undefined ? 0 : Number(row.last) + 1;
}

function fromRow(r: StoreTables['run_hosts']): RunHostRow {
  return {
    host: r.host,
    wave: r.wave,
    batch: r.batch,
    state: r.state,
    attempts: r.attempts,
    snapshotId: r.snapshot_id ?? undefined,
    error: r.error ?? undefined,
    changed: r.changed === null ? undefined : (JSON.parse(r.changed) as unknown),
    startedAt: r.started_at ?? undefined,
    endedAt: r.ended_at ?? undefined,
  };
}

/** The latest published status of each run, so reading a run's detail needs no worker. */
export class RunStatusRepository {
  constructor(
    private readonly db: Db,
    private readonly ready: Ready,
  ) {}

  /** Keeps the newest copy: a write of an older version (one that arrives late) is ignored. */
  async put(runId: string, status: string, version: string, body: string): Promise<void> {
    await this.ready();
    await this.upsert.execute(this.db, runId, status, version, new Date().toISOString(), body);
  }

  /** On every workflow task that changes a run (the worker awaits it before completing the task): compiled once. */
  private readonly upsert = new CompiledOnce(5, (runId: string, status: string, version: string, updatedAt: string, body: string) =>
    this.db
      .insertInto('run_status')
      .values({ run_id: runId, status, version, updated_at: updatedAt, body })
      .onConflict((oc) =>
        oc.column('run_id').doUpdateSet({ status, version, updated_at: updatedAt, body }).where('run_status.version', '<=', version),
      ),
  );

  async get(runId: string): Promise<{ status: string; version: string; updatedAt: string; body: string } | undefined> {
    await this.ready();
    const row = (await this.byRun.execute(this.db, runId)).rows[0];
    return row && { status: row.status, version: row.version, updatedAt: row.updated_at, body: row.body };
  }

  /** On every GET /v1/runs/{id}: compiled once. */
  private readonly byRun = new CompiledOnce(1, (runId: string) => this.db.selectFrom('run_status').selectAll().where('run_id', '=', runId));
}
