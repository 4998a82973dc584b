import type { Kysely } from 'kysely';
import { StaleVersionError } from './repositories';
import type { StoreTables } from './schema';

/** One asset as stored: its body (JSON) and its own version (the ETag of GET /v1/assets/{tag}). */
export interface AssetRow {
  tag: string;
  host: string;
  version: number;
  updatedAt: string;
  body: string;
}

/**
 * The asset register: one row per asset tag, each versioned on its own, so a technician editing
 * one asset and a run recording a swap on another never conflict. Every write is a compare-and-set
 * on the row's version; no lock is held between reading and writing.
 */
export class AssetRepository {
  constructor(
    private readonly db: Kysely<StoreTables>,
    private readonly ready: () => Promise<void>,
  ) {}

  /** Every asset, by tag; only those in `host` when given. */
  async list(host?: string): Promise<AssetRow[]> {
    await this.ready();
    let query = this.db.selectFrom('assets').selectAll().orderBy('tag');
    if (host !== undefined) query = query.where('host', '=', host);
    return (await query.execute()).map(toRow);
  }

  async get(tag: string): Promise<AssetRow | undefined> {
    await this.ready();
    const row = await this.db.selectFrom('assets').selectAll().where('tag', '=', tag).executeTakeFirst();
    return row ? toRow(row) : undefined;
  }

  /**
   * Writes the asset: creates it (version 1) or replaces it. With `expected`, only if it is still at
   * that version (0: only if it does not exist yet); otherwise StaleVersionError.
   */
  async put(tag: string, host: string, body: string, expected?: number): Promise<AssetRow> {
    await this.ready();
    const updatedAt = new Date().toISOString();
    return this.db.transaction().execute(async (trx) => {
      let update = trx
        .updateTable('assets')
        .set((eb) => ({ version: eb('version', '+', 1), updated_at: updatedAt, host, body }))
        .where('tag', '=', tag);
      if (expected !== undefined) update = update.where('version', '=', expected);
      const updated = await update.returning(['version']).executeTakeFirst();
      if (updated) return { tag, host, version: Number(updated.version), updatedAt, body };
      const current = await trx.selectFrom('assets').select('version').where('tag', '=', tag).executeTakeFirst();
      if (current || (expected !== undefined && expected !== 0)) {
        throw new StaleVersionError(`asset ${tag}`, expected ?? -1, current ? Number(current.version) : 0);
      }
      // Two first writes of one tag at once: the primary key lets one in; the other is stale.
      const inserted = await trx
        .insertInto('assets')
        .values({ tag, host, version: 1, updated_at: updatedAt, body })
        .onConflict((oc) => oc.column('tag').doNothing())
        .returning(['version'])
        .executeTakeFirst();
      if (!inserted) throw new StaleVersionError(`asset ${tag}`, expected ?? 0, 1);
      return { tag, host, version: 1, updatedAt, body };
    });
  }
}

function toRow(row: StoreTables['assets']): AssetRow {
  return { tag: row.tag, host: row.host, version: Number(row.version), updatedAt: row.updated_at, body: row.body };
}
