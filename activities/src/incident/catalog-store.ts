import { incidentCatalogSchema, type IncidentCatalog, type IncidentCatalogInput } from '@runbooks/contracts';
import type { Store } from '@runbooks/store';

/** The catalogue in the store, parsed with its schema (an empty store is an empty catalogue). */
export class IncidentCatalogStore {
  constructor(private readonly store: Store) {}

  async read(): Promise<{ catalog: IncidentCatalog; version: number; updatedAt: string | null }> {
    const { body, version, updatedAt } = await this.store.incidentCatalog.read();
    return { catalog: incidentCatalogSchema.parse(body === undefined ? {} : JSON.parse(body)), version, updatedAt };
  }

  async replace(catalog: IncidentCatalogInput, expected?: number) {
    return this.store.incidentCatalog.replace(JSON.stringify(incidentCatalogSchema.parse(catalog)), expected);
  }
}
