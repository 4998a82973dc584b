import os from 'node:os';
import { processIsAlive } from '../child-processes';
import type { BackupRepositoryAccess } from './restic';

/**
 * restic's own rule for a stale lock (restic 0.14, `restic unlock`): made on this machine by a
 * process that no longer runs, or not refreshed for 30 minutes (a live restic refreshes its lock
 * every 5 minutes).
 */
export const STALE_LOCK_AGE_MS = 30 * 60_000;

/** A lock file in the repository, as `restic cat lock` shows it. */
export interface LockJson {
  time: string;
  exclusive: boolean;
  hostname: string;
  username?: string;
  pid: number;
}

export interface RepositoryLock {
  id: string;
  lock: LockJson;
}

/** A stale lock `restic unlock` removed: who held it, since when, and why it was stale. */
export interface RemovedLock {
  id: string;
  pid: number;
  hostname: string;
  exclusive: boolean;
  createdAt: string;
  why: string;
}

/** Runs one restic command (no lock retry) and resolves with its stdout. */
type RunRestic = (repo: BackupRepositoryAccess, args: string[], signal?: AbortSignal) => Promise<string>;

export class RepositoryLocks {
  constructor(private readonly restic: RunRestic) {}

  /**
   * Removes the stale locks with `restic unlock` (which removes only those) and returns the ones
   * that are gone afterwards: a lock a dead worker's restic left behind, for the step's summary.
   * Lists and reads the locks without locking, so it never waits for anyone.
   */
  async removeStale(repo: BackupRepositoryAccess, signal?: AbortSignal): Promise<RemovedLock[]> {
    const locks = await this.list(repo, signal);
    const stale = locks.flatMap(({ id, lock }) => {
      const why = staleness(lock.hostname, lock.pid, Date.now() - Date.parse(lock.time));
      return why ? [{ id, pid: lock.pid, hostname: lock.hostname, exclusive: lock.exclusive, createdAt: lock.time, why }] : [];
    });
    if (stale.length === 0) return [];
    await this.restic(repo, ['unlock'], signal);
    const remaining = new Set((await this.list(repo, signal)).map(({ id }) => id));
    return stale.filter((lock) => !remaining.has(lock.id));
  }

  async list(repo: BackupRepositoryAccess, signal?: AbortSignal): Promise<RepositoryLock[]> {
    const ids = (await this.restic(repo, ['--no-lock', 'list', 'locks'], signal)).split('\n').filter((id) => /^[0-9a-f]{64}$/.test(id));
    const locks = await Promise.all(
      ids.map(async (id) => {
        try {
          return { id, lock: JSON.parse(await this.restic(repo, ['--no-lock', 'cat', 'lock', id], signal)) as LockJson };
        } catch {
          return undefined; // removed by its holder in the meantime
        }
      }),
    );
    return locks.filter((entry) => entry !== undefined);
  }
}

/** Why a lock held by `pid` on `hostname`, `ageMs` old, is stale; undefined while its holder may still run. */
export function staleness(hostname: string, pid: number, ageMs: number): string | undefined {
  if (hostname === os.hostname() && !processIsAlive(pid)) return `its process (PID ${pid} on ${hostname}) no longer runs`;
  if (ageMs > STALE_LOCK_AGE_MS) return `not refreshed for ${Math.round(ageMs / 60_000)} minutes`;
  return undefined;
}

/**
 * The holder restic names when it refuses a lock ("repository is already locked by PID 16709 on
 * vm by root ... lock was created at ... (490.4ms ago)"), and whether that lock is stale.
 */
export function lockHolder(message: string): { pid: number; hostname: string; stale: boolean } | undefined {
  const holder = /locked (?:exclusively )?by PID (\d+) on (\S+)/.exec(message);
  if (!holder) return undefined;
  const [pid, hostname] = [Number(holder[1]), holder[2]];
  const age = /\(([\d.hmsµun]+) ago\)/.exec(message);
  return { pid, hostname, stale: staleness(hostname, pid, age ? goDurationMs(age[1]) : 0) !== undefined };
}

/** Milliseconds in a Go duration string such as "1h2m3.5s" or "490.4ms". */
function goDurationMs(text: string): number {
  const unitMs: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1, us: 0.001, µs: 0.001, ns: 0.000001 };
  let total = 0;
  for (const [, value, unit] of text.matchAll(/([\d.]+)(h|ms|m|s|us|µs|ns)/g)) total += Number(value) * (unitMs[unit] ?? 0);
  return total;
}
