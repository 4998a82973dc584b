import {
  conflictReproductionCatalogSchema,
  conflictReproductionSchema,
  reproductionHostRefusal,
  type CatalogedReproduction,
  type ConflictReproductionCatalog,
  type Host,
} from '@runbooks/contracts';
import type { Store } from '@runbooks/store';
import { nonRetryable } from './failures';

/** A run named a reproduction the catalogue no longer has, or one that no longer applies to its host: nothing was run. */
export const REPRODUCTION_REFUSED = 'ReproductionRefused';

/**
 * The software-conflict reproductions in the store, parsed with their schema. Admins write them
 * (PUT /v1/software-conflict/reproductions); the API checks a launch's name against them, and the
 * worker resolves the name again just before each run of the command, so an entry removed or
 * narrowed since the launch never runs and a changed one runs as admins wrote it last.
 */
export class ConflictReproductionStore {
  constructor(private readonly store: Store) {}

  async read(): Promise<{ reproductions: CatalogedReproduction[]; version: number; updatedAt: string | null }> {
    const { reproductions, version, updatedAt } = await this.store.conflictReproductions.read();
    return {
      reproductions: reproductions.map((r) => ({ ...conflictReproductionSchema.parse(JSON.parse(r.body)), revision: r.revision })),
      version,
      updatedAt,
    };
  }

  async replace(catalog: ConflictReproductionCatalog, expected?: number) {
    const { reproductions } = conflictReproductionCatalogSchema.parse(catalog);
    return this.store.conflictReproductions.replace(
      reproductions.map((r) => ({ name: r.name, body: JSON.stringify(r) })),
      expected,
    );
  }

  /** The reproduction as it is now (undefined: not in the catalogue). */
  async get(name: string): Promise<CatalogedReproduction | undefined> {
    const row = await this.store.conflictReproductions.get(name);
    return row && { ...conflictReproductionSchema.parse(JSON.parse(row.body)), revision: row.revision };
  }

  /** Why `name` may not run on `host` now (undefined: it may), worded for a launch refusal or a run's failure. */
  async refusal(name: string, host: Pick<Host, 'name' | 'tags'>): Promise<string | undefined> {
    const reproduction = await this.get(name);
    if (!reproduction) return `no reproduction ${name} in the catalogue (GET /v1/software-conflict/reproductions lists them)`;
    return reproductionHostRefusal(reproduction, host);
  }

  /** The reproduction to run on `host` now; a refusal fails the activity for good (a retry would not change the catalogue's answer). */
  async resolve(name: string, host: Pick<Host, 'name' | 'tags'>): Promise<CatalogedReproduction> {
    const reproduction = await this.get(name);
    const refusal = reproduction
      ? reproductionHostRefusal(reproduction, host)
      : `reproduction ${name} is no longer in the catalogue (an admin removed it since the launch)`;
    if (refusal || !reproduction) throw nonRetryable(`${refusal}: nothing was run on ${host.name}`, REPRODUCTION_REFUSED);
    return reproduction;
  }
}
