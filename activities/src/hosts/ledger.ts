import { createHash, randomUUID } from 'node:crypto';
import { appendFile, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** The operations that change a host, each applied at most once per idempotency key. */
export type LedgerOp = 'snapshot' | 'patch' | 'restore';

/** One line of a ledger: an operation that was applied, with the result it gave. */
export interface LedgerEntry {
  at: string;
  host: string;
  op: LedgerOp;
  key: string;
  detail: unknown;
}

/**
 * One promise chain per host name: work on a host waits for the work queued before it on that
 * host, while other hosts go ahead. The chain of a host is dropped once it runs empty, so a
 * 10,000-host fleet keeps only the hosts in flight in memory.
 */
export class HostLocks {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(host: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(host) ?? Promise.resolve();
    let release!: () => void;
    const tail = previous.then(() => new Promise<void>((resolve) => (release = resolve)));
    this.tails.set(host, tail);
    await previous;
    try {
      return await work();
    } finally {
      release();
      if (this.tails.get(host) === tail) this.tails.delete(host);
    }
  }
}

/**
 * An append-only JSON-lines file of applied operations, with an in-memory index of the keys
 * applied per host (rebuilt from the file on first use). `once` makes an operation idempotent:
 * under the host's lock it returns the recorded result of an applied key, or applies the operation
 * and appends exactly one line (one appendFile call) with its result.
 */
export class OperationLedger {
  private readonly locks = new HostLocks();
  private index: Promise<Map<string, Map<string, LedgerEntry>>> | undefined;

  constructor(readonly file: string) {}

  /** Runs `work` while holding the host's lock (for writers of host state outside `once`). */
  withHostLock<T>(host: string, work: () => Promise<T>): Promise<T> {
    return this.locks.run(host, work);
  }

  /**
   * Applies `apply` unless `key` was already applied to the host for this operation; either way
   * resolves with the operation's result. Nothing is recorded when `apply` throws.
   */
  once<T>(host: string, op: LedgerOp, key: string, apply: () => Promise<T>): Promise<T> {
    return this.locks.run(host, async () => {
      const index = await this.load();
      const applied = index.get(host)?.get(indexKey(op, key));
      if (applied) return applied.detail as T;
      const detail = await apply();
      const entry: LedgerEntry = { at: new Date().toISOString(), host, op, key, detail };
      await appendFile(this.file, `${JSON.stringify(entry)}\n`);
      let keys = index.get(host);
      if (!keys) index.set(host, (keys = new Map()));
      keys.set(indexKey(op, key), entry);
      return detail;
    });
  }

  /** The recorded entry of an applied key, if any. */
  async find(host: string, op: LedgerOp, key: string): Promise<LedgerEntry | undefined> {
    return (await this.load()).get(host)?.get(indexKey(op, key));
  }

  /** Every entry in the file, in the order applied. */
  async entries(): Promise<LedgerEntry[]> {
    return parseLines(await readIfExists(this.file));
  }

  private load(): Promise<Map<string, Map<string, LedgerEntry>>> {
    this.index ??= (async () => {
      await mkdir(path.dirname(this.file), { recursive: true });
      const text = await readIfExists(this.file);
      // A crash in the middle of an append leaves a torn last line; the next line must not join it.
      if (text && !text.endsWith('\n')) await appendFile(this.file, '\n');
      const index = new Map<string, Map<string, LedgerEntry>>();
      for (const entry of parseLines(text)) {
        let keys = index.get(entry.host);
        if (!keys) index.set(entry.host, (keys = new Map()));
        keys.set(indexKey(entry.op, entry.key), entry);
      }
      return index;
    })().catch((error: unknown) => {
      this.index = undefined; // the next call tries again
      throw error;
    });
    return this.index;
  }
}

/** A snapshot id that a retried snapshot (same host, same key) finds again. */
export function snapshotIdFor(host: string, key: string): string {
  return createHash('sha256').update(`${host}\n${key}`).digest('hex').slice(0, 16);
}

/** Writes JSON so that readers see the old or the new content, never a half-written file. */
export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`);
}

/** Writes through a temp file and a rename, so a reader sees the old file or the new one, never half. */
export async function writeFileAtomic(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${randomUUID()}.tmp`;
  try {
    await writeFile(tmp, text);
    await rename(tmp, file);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}

/** The file's text, or '' when it does not exist. */
export async function readIfExists(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw error;
  }
}

function indexKey(op: LedgerOp, key: string): string {
  return `${op}\n${key}`;
}

/** The entries of a ledger's text; a torn line (crash mid-append) is skipped. */
function parseLines(text: string): LedgerEntry[] {
  const entries: LedgerEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      entries.push(JSON.parse(line) as LedgerEntry);
    } catch {
      // torn by a crash while it was being written: the operation was not recorded as applied
    }
  }
  return entries;
}
