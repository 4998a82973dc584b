import { inventorySchema, type Host, type Inventory } from '@runbooks/contracts';
import type { z } from 'zod';
import { HostFailureType, nonRetryable } from './failures';
import { CachedJsonFile } from '../files/cached-json-file';

/** What `replace` accepts: an inventory as a client sends it (tags may be left out). */
export type InventoryInput = z.input<typeof inventorySchema>;

interface Loaded {
  inventory: Inventory;
  byName: Map<string, Host>;
}

/**
 * The host inventory, a JSON file `{ "hosts": [...] }` validated with the contracts' schema on
 * every read and write. Reads are cached by file version (CachedJsonFile), so looking up hosts
 * of a 10,000-host inventory costs one stat per call; writes replace the file atomically.
 * A missing file is an empty inventory.
 */
export class InventoryStore {
  private readonly json: CachedJsonFile<Loaded>;

  constructor(readonly file: string) {
    this.json = new CachedJsonFile(
      file,
      (json) => indexed(json === undefined ? { hosts: [] } : parseInventory(json, `inventory ${file}`)),
      (message) => nonRetryable(`inventory ${file} is ${message}`, HostFailureType.inventoryInvalid),
    );
  }

  async read(): Promise<Inventory> {
    return (await this.json.read()).inventory;
  }

  /** The host of that name; a non-retryable HostNotInInventory when there is none. */
  async get(name: string): Promise<Host> {
    const host = (await this.json.read()).byName.get(name);
    if (!host) {
      throw nonRetryable(`host ${name} is not in the inventory (${this.file})`, HostFailureType.notInInventory, { host: name });
    }
    return host;
  }

  /** Validates and writes a whole new inventory (the API's PUT); an invalid one changes nothing. */
  async replace(input: InventoryInput): Promise<Inventory> {
    const inventory = parseInventory(input, 'the new inventory');
    await this.json.write(inventory, indexed(inventory));
    return inventory;
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

function indexed(inventory: Inventory): Loaded {
  return { inventory, byName: new Map(inventory.hosts.map((host) => [host.name, host])) };
}
