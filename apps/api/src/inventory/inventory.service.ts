import { ConflictException, Injectable, InternalServerErrorException } from '@nestjs/common';
import { HostFailureType, InventoryStore } from '@runbooks/activities/api-surface';
import { selectHosts, type Host, type Inventory, type RunbookDefinition } from '@runbooks/contracts';
import { ApplicationFailure } from '@temporalio/common';
import { createHash } from 'node:crypto';
import type { ApiConfig } from '../config';
import { RequestValidationError } from '../http/errors';
import { preconditioned } from '../store/versions';
import { API_CONFIG } from '../tokens';
import type { InventoryPage, InventoryReplaced, ListInventoryQuery } from './inventory.routes';
import { Store } from '@runbooks/store';

/** The process's inventory over the shared store (it keeps the parsed inventory per version). */
export const inventoryStoreProvider = {
  provide: InventoryStore,
  inject: [Store, API_CONFIG],
  useFactory: (store: Store, config: ApiConfig): InventoryStore => new InventoryStore(store, config.inventoryFile),
};

/** Reads and replaces the host inventory through InventoryStore; its version is the ETag. */
@Injectable()
export class InventoryService {
  constructor(private readonly store: InventoryStore) {}

  /** One page, and the inventory version it was read from. */
  async list(query: ListInventoryQuery): Promise<InventoryPage & { version: number }> {
    // The version comes with the hosts it describes: a token names that version, and a PUT since makes the next page a 409.
    const { inventory, version, updatedAt } = await this.read();
    const hosts = filterHosts(inventory.hosts, query);
    const filters = filtersTag(query);
    const tag = String(version);
    const offset = query.pageToken === undefined ? 0 : openPageToken(query.pageToken, filters, tag, hosts.length);
    const page = hosts.slice(offset, offset + query.pageSize);
    const end = offset + page.length;
    return {
      hosts: page,
      total: hosts.length,
      nextPageToken: end < hosts.length ? sealPageToken(end, filters, tag) : null,
      updatedAt,
      version,
    };
  }

  /**
   * A run naming hosts the inventory lacks (its definition says where: admission.hostSelectors), or
   * a host whose entry cannot give the run what it needs (admission.hostRequirements: a hardware
   * swap's power control), is refused now, not after it started.
   */
  async refuseUnfitHosts(runbook: RunbookDefinition, input: unknown): Promise<void> {
    const selectors = runbook.admission?.hostSelectors?.(input as never) ?? [];
    const requirements = runbook.admission?.hostRequirements?.(input as never) ?? [];
    if (selectors.length === 0 && requirements.length === 0) return;
    const hosts = (await this.store.read().catch(() => undefined))?.hosts;
    if (!hosts) return; // an unreadable inventory is the run's to report
    const issues = selectors.flatMap(({ field, selector, oneHost }) =>
      selectHosts(hosts, selector).unknownNames.map((name) => ({
        path: oneHost ? ['input', field] : ['input', field, 'names', selector.names?.indexOf(name) ?? 0],
        message: `${name} is not in the inventory (GET /v1/inventory lists the hosts)`,
      })),
    );
    const byName = new Map(hosts.map((h) => [h.name, h]));
    for (const { field, host, refusal } of requirements) {
      const entry = byName.get(host);
      const why = entry && refusal(entry); // a host the inventory lacks is refused above
      if (why) issues.push({ path: ['input', field], message: why });
    }
    if (issues.length > 0) throw new RequestValidationError('request body', issues);
  }

  /**
   * Validated by the route already; the store validates again and replaces every host in one
   * transaction. With `expectedVersion` (If-Match) a 412 when the inventory changed since.
   */
  async replace(inventory: Inventory, expectedVersion?: number): Promise<InventoryReplaced & { version: number }> {
    const written = await preconditioned('inventory', () => this.store.replaceVersioned(inventory, expectedVersion));
    return { hosts: written.inventory.hosts.length, updatedAt: written.updatedAt, version: written.version };
  }

  private async read(): Promise<{ inventory: Inventory; version: number; updatedAt: string | null }> {
    try {
      return await this.store.readVersioned();
    } catch (error) {
      if (error instanceof ApplicationFailure && error.type === HostFailureType.inventoryInvalid) {
        // The file on the server is broken (edited by hand?): a server problem, logged with its path.
        const details = error.details?.[0] as { problems?: { path: string; message: string }[] } | undefined;
        const problems = (details?.problems ?? []).slice(0, 5).map((p) => `${p.path}: ${p.message}`);
        throw new InternalServerErrorException(
          `the stored inventory is invalid${problems.length ? ` (${problems.join('; ')})` : ''}; an admin must PUT a valid one`,
          { cause: error },
        );
      }
      throw error;
    }
  }
}

/** The hosts matching the filters, in inventory order. */
export function filterHosts(hosts: readonly Host[], filters: { tag?: string; name?: string }): Host[] {
  const name = filters.name?.toLowerCase();
  return hosts.filter(
    (h) => (filters.tag === undefined || h.tags.includes(filters.tag)) && (name === undefined || h.name.toLowerCase().includes(name)),
  );
}

function filtersTag(query: ListInventoryQuery): string {
  return shortHash(JSON.stringify([query.tag ?? null, query.name?.toLowerCase() ?? null]));
}

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('base64url').slice(0, 16);
}

/** An offset, bound to the filters and the inventory version it continues. */
export function sealPageToken(offset: number, filters: string, version: string): string {
  return Buffer.from(JSON.stringify({ o: offset, f: filters, v: shortHash(version) })).toString('base64url');
}

function openPageToken(token: string, filters: string, version: string, total: number): number {
  let sealed: unknown;
  try {
    sealed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw invalidPageToken();
  }
  const { o, f, v } = (sealed ?? {}) as { o?: unknown; f?: unknown; v?: unknown };
  if (typeof o !== 'number' || !Number.isInteger(o) || o < 0 || typeof f !== 'string' || typeof v !== 'string') {
    throw invalidPageToken();
  }
  if (f !== filters) throw invalidPageToken('belongs to a listing with other filters');
  if (v !== shortHash(version)) {
    throw new ConflictException('the inventory changed since this page token was issued; list it again from the first page');
  }
  if (o > total) throw invalidPageToken();
  return o;
}

function invalidPageToken(reason = 'is not a nextPageToken of this listing'): RequestValidationError {
  return new RequestValidationError('query', [{ path: ['pageToken'], message: reason }]);
}
