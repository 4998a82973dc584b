import { inventorySchema, type Host, type Inventory } from '@runbooks/contracts';
import type { z } from 'zod';
import { HostFailureType, nonRetryable } from './failures';
import type { Store } from '@runbooks/store';
import { LegacyJsonImport } from '../files/legacy-json-import';

/** What `replace` accepts: an inventory as a client sends it (tags may be left out). */
export type InventoryInput = z.input<typeof inventorySchema>;

interface Loaded {
  version: number;
  updatedAt: string | null;
  inventory: Inventory;
  byName: Map<string, Host>;
}

/**
 * The host inventory in the store: one row per host, validated with the contracts' schema on
 * every write, versioned as a whole (the API's ETag). A read costs one query of the version while
 * it is unchanged (the parsed inventory is kept per version), so looking up hosts of a
 * 10,000-host inventory stays cheap, and a PUT through any replica is seen by the next read of
 * every process. An empty store is an empty inventory.
 */
export class InventoryStore {
  private cache: Promise<Loaded> | undefined;
  private readonly legacy: LegacyJsonImport<Inventory>;

  /** `legacyFile`: today's `inventory.json`, imported into the store once, on first use. */
  constructor(
    private readonly store: Store,
    legacyFile?: string,
  ) {
    this.legacy = new LegacyJsonImport(store, legacyFile, {
      kind: 'inventory',
      parse: parseInventory,
      notJson: (what, message) => nonRetryable(`${what} is ${message}`, HostFailureType.inventoryInvalid),
      write: async (inventory, trx) => {
        await store.inventory.replace(rowsOf(inventory), undefined, trx);
      },
    });
  }

  async read(): Promise<Inventory> {
    return (await this.load()).inventory;
  }

  /** The inventory with its version (ETag) and when it last changed (null: never written). */
  async readVersioned(): Promise<{ inventory: Inventory; version: number; updatedAt: string | null }> {
    const { inventory, version, updatedAt } = await this.load();
    return { inventory, version, updatedAt };
  }

  /** The host of that name; a non-retryable HostNotInInventory when there is none. */
  async get(name: string): Promise<Host> {
    const host = (await this.load()).byName.get(name);
    if (!host) {
      throw nonRetryable(`host ${name} is not in the inventory`, HostFailureType.notInInventory, { host: name });
    }
    return host;
  }

  /**
   * Validates and writes a whole new inventory (the API's PUT); an invalid one changes nothing.
   * With `expectedVersion` (If-Match), a StaleVersionError when the inventory moved on.
   */
  async replace(input: InventoryInput, expectedVersion?: number): Promise<Inventory> {
    return (await this.replaceVersioned(input, expectedVersion)).inventory;
  }

  async replaceVersioned(
    input: InventoryInput,
    expectedVersion?: number,
  ): Promise<{ inventory: Inventory; version: number; updatedAt: string }> {
    const inventory = parseInventory(input, 'the new inventory');
    await this.legacy.run();
    const written = await this.store.inventory.replace(rowsOf(inventory), expectedVersion);
    return { inventory, version: written.version, updatedAt: written.updatedAt ?? new Date().toISOString() };
  }

  private async load(): Promise<Loaded> {
    await this.legacy.run();
    const { version } = await this.store.inventory.version();
    const cached = this.cache;
    if (cached) {
      const loaded = await cached.catch(() => undefined);
      if (loaded?.version === version) return loaded;
    }
    if (this.cache !== cached) return this.load(); // another call is loading a newer version
    const loading = (async () => {
      const stored = await this.store.inventory.read();
      let hosts: unknown[];
      try {
        hosts = stored.hosts.map((text) => JSON.parse(text) as unknown);
      } catch (error) {
        throw nonRetryable(`the stored inventory is not valid JSON: ${(error as Error).message}`, HostFailureType.inventoryInvalid);
      }
      const inventory = parseInventory({ hosts }, 'the stored inventory');
      return { version: stored.version, updatedAt: stored.updatedAt, inventory, byName: new Map(inventory.hosts.map((h) => [h.name, h])) };
    })();
    this.cache = loading;
    loading.catch(() => {
      if (this.cache === loading) this.cache = undefined;
    });
    return loading;
  }
}

/** Validates an inventory; the failure names every problem with its field path (e.g. `hosts.3.name`). */
export function parseInventory(input: unknown, what = 'the inventory'): Inventory {
  const result = inventorySchema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => ({
    path: issue.path.map(String).join('.') || '(root)',
    message: issue.message,
  }));
  const named = problems.slice(0, 10).map((p) => `${p.path}: ${p.message}`);
  const more = problems.length > named.length ? `; and ${problems.length - named.length} more` : '';
  throw nonRetryable(`${what} is invalid: ${named.join('; ')}${more}`, HostFailureType.inventoryInvalid, {
    problems: problems.slice(0, 100),
    total: problems.length,
  });
}

function rowsOf(inventory: Inventory): { name: string; body: string }[] {
  return inventory.hosts.map((host) => ({ name: host.name, body: JSON.stringify(host) }));
}
