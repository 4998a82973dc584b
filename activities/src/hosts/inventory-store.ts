import { inventorySchema, type Host, type Inventory } from '@runbooks/contracts';
import { stat } from 'node:fs/promises';
import type { z } from 'zod';
import { HostFailureType, nonRetryable } from './failures';
import { readIfExists, writeJsonAtomic } from './ledger';

/** What `replace` accepts: an inventory as a client sends it (tags may be left out). */
export type InventoryInput = z.input<typeof inventorySchema>;

interface Loaded {
  inventory: Inventory;
  byName: Map<string, Host>;
}

/**
 * The host inventory, a JSON file `{ "hosts": [...] }` validated with the contracts' schema on
 * every read and write. Reads are cached by the file's mtime, size and inode, so looking up hosts
 * of a 10,000-host inventory costs one stat per call; writes replace the file atomically.
 * A missing file is an empty inventory.
 */
export class InventoryStore {
  /** The last read (or write), by the version of the file it came from ('' for a missing file). */
  private cache: { version: string; loaded: Promise<Loaded> } | undefined;

  constructor(readonly file: string) {}

  async read(): Promise<Inventory> {
    return (await this.current()).inventory;
  }

  /** The host of that name; a non-retryable HostNotInInventory when there is none. */
  async get(name: string): Promise<Host> {
    const host = (await this.current()).byName.get(name);
    if (!host) {
      throw nonRetryable(`host ${name} is not in the inventory (${this.file})`, HostFailureType.notInInventory, { host: name });
    }
    return host;
  }

  /** Validates and writes a whole new inventory (the API's PUT); an invalid one changes nothing. */
  async replace(input: InventoryInput): Promise<Inventory> {
    const inventory = parseInventory(input, 'the new inventory');
    await writeJsonAtomic(this.file, inventory);
    this.cache = { version: await fileVersion(this.file), loaded: Promise.resolve(indexed(inventory)) };
    return inventory;
  }

  private async current(): Promise<Loaded> {
    const version = await fileVersion(this.file);
    // Concurrent callers that find the same new version share one read and parse.
    if (this.cache?.version !== version) this.cache = { version, loaded: this.load() };
    const cache = this.cache;
    try {
      return await cache.loaded;
    } catch (error) {
      if (this.cache === cache) this.cache = undefined;
      throw error;
    }
  }

  private async load(): Promise<Loaded> {
    const text = await readIfExists(this.file);
    if (!text) return indexed({ hosts: [] });
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw nonRetryable(`inventory ${this.file} is not valid JSON: ${(error as Error).message}`, HostFailureType.inventoryInvalid);
    }
    return indexed(parseInventory(json, `inventory ${this.file}`));
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

async function fileVersion(file: string): Promise<string> {
  try {
    const s = await stat(file);
    return `${s.mtimeMs}:${s.size}:${s.ino}`;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw error;
  }
}
