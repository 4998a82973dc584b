import { Injectable } from '@nestjs/common';
import { ConflictReproductionStore, InventoryStore } from '@runbooks/activities/api-surface';
import type { ConflictReproductionCatalog, RunbookDefinition } from '@runbooks/contracts';
import { Store } from '@runbooks/store';
import { RequestValidationError } from '../http/errors';
import { preconditioned } from '../store/versions';
import type { ReproductionCatalogRead, ReproductionCatalogReplaced } from './reproductions.routes';

export const conflictReproductionStoreProvider = {
  provide: ConflictReproductionStore,
  inject: [Store],
  useFactory: (store: Store) => new ConflictReproductionStore(store),
};

/** The admin-written reproductions over the shared store (its version is the ETag); refuses launches naming one it lacks. */
@Injectable()
export class ReproductionsService {
  constructor(
    private readonly reproductions: ConflictReproductionStore,
    private readonly inventory: InventoryStore,
  ) {}

  async read(): Promise<ReproductionCatalogRead & { version: number }> {
    return this.reproductions.read();
  }

  async replace(
    catalog: ConflictReproductionCatalog,
    expectedVersion?: number,
  ): Promise<ReproductionCatalogReplaced & { version: number }> {
    const written = await preconditioned('reproduction catalogue', () => this.reproductions.replace(catalog, expectedVersion));
    return {
      reproductions: catalog.reproductions.length,
      updatedAt: written.updatedAt ?? new Date().toISOString(),
      version: written.version,
    };
  }

  /** A launch naming a reproduction the catalogue lacks, or one that does not apply to its host, is a 400 naming the field. */
  async refuseUnknownReproduction(runbook: RunbookDefinition, input: unknown): Promise<void> {
    const named = runbook.admission?.reproduction?.(input as never);
    if (!named) return;
    // An unknown host is the inventory's refusal (it names input.host); here only its tags matter.
    const host = await this.inventory.get(named.host).catch(() => ({ name: named.host, tags: [] }));
    const refusal = await this.reproductions.refusal(named.name, host);
    if (refusal) throw new RequestValidationError('request body', [{ path: ['input', named.field], message: refusal }]);
  }
}
