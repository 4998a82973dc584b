import { readFileSync, writeFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import { processIsAlive, signalGroup } from '../child-processes';
import { STALE_LOCK_AGE_MS } from './repository-locks';
import type { BackupDriver, BackupRepositoryAccess } from './restic';
import { abortableDelay } from '../wait';

/** Which restic process restores into a staging folder: a retried attempt reads it to wait for it. */
interface RestoreProcess {
  pid: number;
  hostname: string;
  startedAt: string;
}

/** How often a retried restore looks whether the previous attempt's process is gone. */
const POLL_MS = 250;
/** A previous attempt's restic on this machine gets this long to stop on its own (cancelled, parent dead) before it is killed. */
const LOCAL_GRACE_MS = 15_000;

export class RestoreProcessFile {
  constructor(readonly file: string) {}

  /** Synchronous: called from the spawn callback, before restic writes anything. */
  record(pid: number): void {
    const entry: RestoreProcess = { pid, hostname: os.hostname(), startedAt: new Date().toISOString() };
    try {
      writeFileSync(this.file, JSON.stringify(entry));
    } catch {
      // the staging folder's parent is not writable: the restore itself will say so
    }
  }

  async read(): Promise<RestoreProcess | undefined> {
    try {
      return JSON.parse(await readFile(this.file, 'utf8')) as RestoreProcess;
    } catch {
      return undefined;
    }
  }

  async clear(): Promise<void> {
    await rm(this.file, { force: true });
  }
}

/**
 * Waits until the restic process of a previous attempt at this restore has ended. On this machine
 * its PID says so (a process still there after a grace is killed with its group: its activity is
 * gone, and it would keep writing into staging); on another machine, its lock in the repository
 * does (a live restic holds it and refreshes it; restic's stale rule ends the wait otherwise).
 */
export async function waitForPreviousRestore(
  processFile: RestoreProcessFile,
  driver: BackupDriver,
  repo: BackupRepositoryAccess,
  signal?: AbortSignal,
): Promise<void> {
  const previous = await processFile.read();
  if (!previous) return;
  if (previous.hostname === os.hostname()) {
    const killAt = Date.now() + LOCAL_GRACE_MS;
    while (isResticProcess(previous.pid)) {
      if (Date.now() > killAt) signalGroup(previous.pid, 'SIGKILL');
      await abortableDelay(POLL_MS, signal);
    }
  } else {
    const holdsLock = async () =>
      (await driver.listLocks(repo, signal)).some(
        ({ lock }) =>
          lock.hostname === previous.hostname && lock.pid === previous.pid && Date.now() - Date.parse(lock.time) < STALE_LOCK_AGE_MS,
      );
    while (await holdsLock()) await abortableDelay(POLL_MS * 4, signal);
  }
  await processFile.clear();
}

/** Whether the PID still names a restic process (not another one that reused the number). */
function isResticProcess(pid: number): boolean {
  if (!processIsAlive(pid)) return false;
  try {
    // A zombie (killed, not yet reaped) has an empty command line: it is gone as far as staging goes.
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('restic');
  } catch {
    return process.platform !== 'linux';
  }
}
