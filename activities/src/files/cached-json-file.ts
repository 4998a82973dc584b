import { stat } from 'node:fs/promises';
import { readIfExists, writeJsonAtomic } from '../hosts/ledger';

/**
 * A JSON file read through a cache keyed by the file's mtime, size and inode: readers pay one
 * stat while the file is unchanged, concurrent readers of a new version share one read and
 * parse, and writes replace the file atomically. `parse` gets undefined for a missing file.
 */
export class CachedJsonFile<T> {
  private cache: { version: string; loaded: Promise<T> } | undefined;

  constructor(
    readonly file: string,
    private readonly parse: (json: unknown) => T,
    private readonly notJson: (message: string) => Error,
  ) {}

  async read(): Promise<T> {
    const version = await fileVersion(this.file);
    if (this.cache?.version !== version) this.cache = { version, loaded: this.load() };
    const cache = this.cache;
    try {
      return await cache.loaded;
    } catch (error) {
      if (this.cache === cache) this.cache = undefined;
      throw error;
    }
  }

  /** Writes `json` (already validated) and caches `value`, what a read of it would give. */
  async write(json: unknown, value: T): Promise<void> {
    await writeJsonAtomic(this.file, json);
    this.cache = { version: await fileVersion(this.file), loaded: Promise.resolve(value) };
  }

  private async load(): Promise<T> {
    const text = await readIfExists(this.file);
    if (!text) return this.parse(undefined);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw this.notJson(`not valid JSON: ${(error as Error).message}`);
    }
    return this.parse(json);
  }
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
