import type { Kysely } from 'kysely';
import { bump, consistent, type DocumentVersion } from './repositories';
import type { StoreTables } from './schema';

const DOCUMENT = 'conflict-reproductions';

/** One reproduction as stored: its JSON (validated by the contracts' schema before it is written) and its revision. */
export interface ConflictReproductionRow {
  name: string;
  body: string;
  /** The catalogue version at which this body was written: unchanged bodies keep theirs across rewrites. */
  revision: number;
}

/**
 * The software-conflict reproductions admins write: one row per name, in catalogue order, the
 * catalogue versioned as a whole (If-Match). The worker reads one by name just before it runs it.
 */
export class ConflictReproductionRepository {
  constructor(
    private readonly db: Kysely<StoreTables>,
    private readonly ready: () => Promise<void>,
  ) {}

  async read(): Promise<DocumentVersion & { reproductions: ConflictReproductionRow[] }> {
    await this.ready();
    const { value, ...version } = await consistent(this.db, DOCUMENT, () =>
      this.db.selectFrom('conflict_reproductions').select(['name', 'body', 'revision']).orderBy('position').execute(),
    );
    return { ...version, reproductions: value.map((r) => ({ name: r.name, body: r.body, revision: Number(r.revision) })) };
  }

  /** One reproduction as it is now (undefined: not in the catalogue). */
  async get(name: string): Promise<ConflictReproductionRow | undefined> {
    await this.ready();
    const row = await this.db
      .selectFrom('conflict_reproductions')
      .select(['name', 'body', 'revision'])
      .where('name', '=', name)
      .executeTakeFirst();
    return row && { name: row.name, body: row.body, revision: Number(row.revision) };
  }

  /** Replaces every reproduction; with `expected`, only if the catalogue is still at that version. */
  async replace(reproductions: readonly { name: string; body: string }[], expected?: number): Promise<DocumentVersion> {
    await this.ready();
    return this.db.transaction().execute(async (t) => {
      const version = await bump(t, DOCUMENT, expected);
      const before = new Map(
        (await t.selectFrom('conflict_reproductions').select(['name', 'body', 'revision']).execute()).map((r) => [r.name, r]),
      );
      await t.deleteFrom('conflict_reproductions').execute();
      if (reproductions.length > 0) {
        const rows = reproductions.map((r, position) => {
          const old = before.get(r.name);
          const revision = old && old.body === r.body ? Number(old.revision) : version.version;
          return { name: r.name, position, revision, body: r.body };
        });
        await t.insertInto('conflict_reproductions').values(rows).execute();
      }
      return version;
    });
  }
}
