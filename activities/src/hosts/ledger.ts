import { createHash, randomUUID } from 'node:crypto';
import type { OperationId, OperationRow, Store } from '@runbooks/store';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** The operations that change a host, each applied at most once per idempotency key. */
export type LedgerOp = 'snapshot' | 'patch' | 'restore' | 'incident-action' | 'power-down' | 'power-on';

/** One operation that was applied, with the result it gave. */
export interface LedgerEntry {
  at: string;
  host: string;
  op: LedgerOp;
  key: string;
  detail: unknown;
}

/**
 * One promise chain per host name, in one process: work on a host waits for the work queued
 * before it on that host, while other hosts go ahead (the lab fleet's host files use it; it
 * is no lock between processes: the ledger's claims are). The chain of a host is dropped once it runs empty, so a
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

/** How long a claim stays live without renewal: past it, the claimant is taken for dead. */
export const CLAIM_LEASE_MS = 10_000;
/** How often a claimant renews its lease while it applies. */
const CLAIM_RENEW_MS = 3_000;
/** How often a caller that found a live claim of another looks again (backing off to the max). */
const CLAIM_POLL_FIRST_MS = 50;
const CLAIM_POLL_MAX_MS = 1_000;

/**
 * The host-operation ledger, in the store: `once` makes an operation idempotent by its key across
 * every worker process. The rule:
 * - The key is claimed in the database before the change is applied: inserting its row, unique by
 *   (scope, host, op, key). The claim records its owner (process) and attempt, and a lease the
 *   owner renews while it applies. The result is recorded on the row after the change.
 * - A caller that finds the key's result returns it (nothing applied again).
 * - A caller that finds a live claim without a result waits for that result.
 * - A claim whose lease ran out without a result belongs to a dead claimant. One caller takes it
 *   over (a conditional update moves the attempt on; the dead owner can no longer record) and asks
 *   the driver's `recover`: the result the host shows for that key (the change landed before the
 *   claimant died) is recorded as is; only when the driver says the operation is not done (or has
 *   no way to tell, for operations that converge, such as package installs) is it applied again.
 * - When `apply` throws, its claim is released (nothing recorded), so a retry claims afresh.
 */
export class OperationLedger {
  private readonly owner = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;

  constructor(
    private readonly store: Store,
    /** Separates drivers' ledgers in one store: 'lab', 'ssh', 'local'. */
    readonly scope: string,
  ) {}

  /**
   * Applies `apply` unless `key` was already applied to the host for this operation; either way
   * resolves with the operation's result. `recover` tells, after a claimant died, whether the
   * host already shows the operation done (its result), or not (undefined: apply it).
   */
  async once<T>(host: string, op: LedgerOp, key: string, apply: () => Promise<T>, recover?: () => Promise<T | undefined>): Promise<T> {
    const id = { scope: this.scope, host, op, key };
    const operations = this.store.operations;
    for (let wait = CLAIM_POLL_FIRST_MS; ;) {
      if (await operations.claim(id, this.owner, leaseUntil())) return this.applyClaimed(id, 1, apply);
      const row = await operations.find(id);
      if (!row) continue; // released by a failed apply meanwhile: claim it afresh
      if (row.result !== null) return JSON.parse(row.result) as T;
      if (row.leaseUntil >= new Date().toISOString()) {
        await delay(wait);
        wait = Math.min(wait * 2, CLAIM_POLL_MAX_MS);
        continue;
      }
      if (!(await operations.takeOver(row, this.owner, leaseUntil()))) continue;
      const attempt = row.attempt + 1;
      const done = recover ? await recover() : undefined;
      if (done === undefined) return this.applyClaimed(id, attempt, apply);
      await operations.record(id, this.owner, attempt, JSON.stringify(done));
      return done;
    }
  }

  /** The recorded entry of an applied key, if any. */
  async find(host: string, op: LedgerOp, key: string): Promise<LedgerEntry | undefined> {
    const row = await this.store.operations.find({ scope: this.scope, host, op, key });
    return row?.result == null ? undefined : toEntry(row);
  }

  /** Every operation applied, in the order recorded. */
  async entries(): Promise<LedgerEntry[]> {
    return (await this.store.operations.applied(this.scope)).map(toEntry);
  }

  private async applyClaimed<T>(id: OperationId, attempt: number, apply: () => Promise<T>): Promise<T> {
    const operations = this.store.operations;
    const renewal = setInterval(() => {
      operations.renew(id, this.owner, attempt, leaseUntil()).catch(() => undefined); // a missed renewal only shortens the lease
    }, CLAIM_RENEW_MS);
    renewal.unref();
    let detail: T;
    try {
      detail = await apply();
    } catch (error) {
      clearInterval(renewal);
      await operations.release(id, this.owner, attempt).catch(() => undefined); // an unreleased claim expires with its lease
      throw error;
    }
    clearInterval(renewal);
    // False only when this process stalled past its lease and another took the key over: the
    // taker's `recover` sees this change on the host, so the key is still applied once.
    await operations.record(id, this.owner, attempt, JSON.stringify(detail ?? null));
    return detail;
  }
}

function leaseUntil(): string {
  return new Date(Date.now() + CLAIM_LEASE_MS).toISOString();
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function toEntry(row: OperationRow): LedgerEntry {
  return {
    at: row.appliedAt ?? row.claimedAt,
    host: row.host,
    op: row.op as LedgerOp,
    key: row.key,
    detail: JSON.parse(row.result ?? 'null'),
  };
}

/** A snapshot id that a retried snapshot (same host, same key) finds again. */
export function snapshotIdFor(host: string, key: string): string {
  return createHash('sha256').update(`${host}\n${key}`).digest('hex').slice(0, 16);
}

/** The name of writeFileAtomic's temp file (<name>.<pid>.<uuid>.tmp): one is left behind only by a process that died mid-write. */
export const ATOMIC_WRITE_TEMP = /\.\d+\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.tmp$/;

/** Writes JSON so that readers see the old or the new content, never a half-written file. */
export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`);
}

/** Writes through a temp file and a rename, so a reader sees the old file or the new one, never half. */
export async function writeFileAtomic(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${randomUUID()}.tmp`; // as ATOMIC_WRITE_TEMP matches
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
