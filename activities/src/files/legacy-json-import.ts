import type { Store, StoreTransaction } from '@runbooks/store';
import { readIfExists } from '../hosts/ledger';

/**
 * A JSON file of the layout before the store (data/inventory.json, calendar.json,
 * pre-approvals.json, and the lab's ledger.jsonl), imported into the store once, ever: on the
 * first use by any process, in the same transaction that records the import (Store.importOnce).
 * A missing file imports nothing and counts as the import; the file is left in place, and later
 * edits to it are not read.
 */
export class LegacyJsonImport<T> {
  private done: Promise<void> | undefined;

  constructor(
    private readonly store: Store,
    private readonly file: string | undefined,
    private readonly options: {
      /**
       * Names the import in the store: one import per kind, whatever the file's path, so a process
       * that names the same file differently (or a stale copy) cannot import it again over later edits.
       */
      kind: string;
      /** JSON lines (one value per line; a line torn by a crash is skipped): `parse` gets the array. */
      jsonLines?: boolean;
      /** Validates the parsed JSON (throws the store's own failure when invalid). */
      parse: (json: unknown, what: string) => T;
      notJson: (what: string, message: string) => Error;
      write: (value: T, trx: StoreTransaction) => Promise<void>;
    },
  ) {}

  /** Resolves once the file is imported (by this process or another); retried after a failure. */
  run(): Promise<void> {
    const file = this.file;
    if (!file) return Promise.resolve();
    this.done ??= (async () => {
      const text = await readIfExists(file);
      // No file at the first start: nothing to import, ever (a file copied in later is not read).
      if (!text) return void (await this.store.importOnce(this.options.kind, async () => undefined));
      const what = `${this.options.kind} ${file}`;
      let json: unknown;
      try {
        json = this.options.jsonLines ? jsonLines(text) : JSON.parse(text);
      } catch (error) {
        throw this.options.notJson(what, `not valid JSON: ${(error as Error).message}`);
      }
      const value = this.options.parse(json, what);
      await this.store.importOnce(this.options.kind, (trx) => this.options.write(value, trx));
    })().catch((error: unknown) => {
      this.done = undefined;
      throw error;
    });
    return this.done;
  }
}

function jsonLines(text: string): unknown[] {
  return text
    .split('\n')
    .filter((line) => line.trim())
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as unknown];
      } catch {
        return []; // torn by a crash while it was written: that operation was not recorded
      }
    });
}
