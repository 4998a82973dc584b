import { Injectable } from '@nestjs/common';
import { IncidentCatalogStore } from '@runbooks/activities/api-surface';
import { unknownIncidentNames, type IncidentCatalog, type RunbookDefinition } from '@runbooks/contracts';
import { Store } from '@runbooks/store';
import { RequestValidationError } from '../http/errors';
import { preconditioned } from '../store/versions';
import type { IncidentCatalogRead, IncidentCatalogReplaced } from './incidents.routes';

export const incidentCatalogStoreProvider = {
  provide: IncidentCatalogStore,
  inject: [Store],
  useFactory: (store: Store) => new IncidentCatalogStore(store),
};

/** The incident catalogue over the shared store (its version is the ETag); refuses incidents naming what it lacks. */
@Injectable()
export class IncidentsService {
  constructor(private readonly catalogs: IncidentCatalogStore) {}

  async read(): Promise<IncidentCatalogRead & { version: number }> {
    const { catalog, version, updatedAt } = await this.catalogs.read();
    return { ...catalog, updatedAt, version };
  }

  async replace(catalog: IncidentCatalog, expectedVersion?: number): Promise<IncidentCatalogReplaced & { version: number }> {
    const written = await preconditioned('incident catalogue', () => this.catalogs.replace(catalog, expectedVersion));
    return {
      services: catalog.services.length,
      locations: catalog.locations.length,
      updatedAt: written.updatedAt ?? new Date().toISOString(),
      version: written.version,
    };
  }

  /** An incident (admission.incident) naming a service or location the catalogue lacks is a 400 naming the field. */
  async refuseUnknownNames(runbook: RunbookDefinition, input: unknown): Promise<void> {
    const incident = runbook.admission?.incident?.(input as never);
    if (!incident) return;
    const { catalog } = await this.catalogs.read();
    const issues = unknownIncidentNames(catalog, incident).map((i) => ({ path: ['input', ...i.path], message: i.message }));
    if (issues.length > 0) throw new RequestValidationError('request body', issues);
  }
}
