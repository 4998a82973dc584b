import type { Kysely } from 'kysely';
import { bump, consistent, type DocumentVersion } from './repositories';
import type { StoreTables } from './schema';

const ROW = 'catalog';

/** The incident catalogue as one JSON document (validated by its schema in the contracts before it is written), versioned as a whole. */
export class IncidentCatalogRepository {
  constructor(
    private readonly db: Kysely<StoreTables>,
    private readonly ready: () => Promise<void>,
  ) {}

  /** The document (undefined: never written) and its version. */
  async read(): Promise<DocumentVersion & { body: string | undefined }> {
    await this.ready();
    const { value, ...version } = await consistent(this.db, 'incident-catalog', () =>
      this.db.selectFrom('incident_catalog').select('body').where('name', '=', ROW).executeTakeFirst(),
    );
    return { ...version, body: value?.body };
  }

  /** Replaces the document; with `expected`, only if it is still at that version. */
  async replace(body: string, expected?: number): Promise<DocumentVersion> {
    await this.ready();
    return this.db.transaction().execute(async (t) => {
      const version = await bump(t, 'incident-catalog', expected);
      await t.deleteFrom('incident_catalog').where('name', '=', ROW).execute();
      await t.insertInto('incident_catalog').values({ name: ROW, body }).execute();
      return version;
    });
  }
}
