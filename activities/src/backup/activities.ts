import { ApplicationFailure } from '@temporalio/common';
import type { LaunchCredential } from '@runbooks/contracts';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { withHeartbeat } from '../activity-context';
import { FileFailureType } from '../files/activities';
import { emptyDirectory, listTree, pathExists, sha256File, type TreeEntry } from '../files/tree';
import type { SecretResolver } from '../secrets/resolve-secret';
import type {
  BackupRepositoryRef,
  FileChecksum,
  RunbookActivities,
  VerifyRestoredContentInput,
  VerifyRestoredContentResult,
} from '../types';
import { RestoreProcessFile, waitForPreviousRestore } from './previous-attempt';
import type { RemovedLock } from './repository-locks';
import type { BackupDriver, BackupRepositoryAccess } from './restic';

export const CHECKSUM_MISMATCH = 'ChecksumMismatch';

/** How many mismatches an error names; the count says how many more there are. */
const PROBLEMS_NAMED = 10;
const SAMPLE_SIZE = 20;
/** Each expected checksum is one `restic dump` process; a few at once hide its start-up cost. */
const DUMP_CONCURRENCY = 4;

export type BackupActivities = Pick<
  RunbookActivities,
  'probeBackupRepository' | 'backupPath' | 'checkBackupRepository' | 'restoreToStaging' | 'verifyRestoredContent'
>;

export interface BackupPathInput {
  repository: BackupRepositoryRef;
  /** The folder to back up, as the worker reaches it. */
  path: string;
  /** The machine the data belongs to: the snapshot's host name. */
  host: string;
  idempotencyKey: string;
  /** The run's launch credential: the worker checks the secret's use against it (see SecretResolver.resolveForRun). */
  launch?: LaunchCredential;
}
export interface BackupPathResult {
  snapshotId: string;
  shortId: string;
  time: string;
  /** The snapshot was taken by an earlier attempt with the same key (found by its tag), not again. */
  reused: boolean;
}

export function createBackupActivities(driver: BackupDriver, secrets: SecretResolver): BackupActivities {
  const access = async (ref: BackupRepositoryRef, launch: LaunchCredential | undefined): Promise<BackupRepositoryAccess> => ({
    url: ref.url,
    password: await secrets.resolveForRun(ref.passwordRef, launch, { repositoryUrl: ref.url }),
  });
  return {
    probeBackupRepository({ repositoryUrl }) {
      return driver.probe(repositoryUrl);
    },

    async backupPath({ repository, path: sourcePath, host, idempotencyKey, launch }) {
      const repo = await access(repository, launch);
      // The key's tag finds a snapshot an earlier attempt took (its worker lost before it reported).
      const tag = `runbooks-${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 32)}`;
      return withHeartbeat(
        () => `restic backup ${sourcePath}`,
        async (signal) => {
          const tagged = async () => (await driver.listSnapshots(repo, signal)).find((s) => s.tags.includes(tag));
          const earlier = await tagged();
          if (earlier) return { snapshotId: earlier.id, shortId: earlier.shortId, time: earlier.time, reused: true };
          const reported = await driver.backup(repo, sourcePath, host, [tag], signal);
          // restic's summary may give the short id: the listing has the full one (the tag is the key's alone).
          const taken = await tagged();
          if (!taken)
            throw ApplicationFailure.nonRetryable(`restic backup reported snapshot ${reported}, which the repository does not list`);
          return { snapshotId: taken.id, shortId: taken.shortId, time: taken.time, reused: false };
        },
      );
    },

    async checkBackupRepository({ repository, launch }) {
      const repo = await access(repository, launch);
      const { snapshots, removed } = await withHeartbeat(
        () => 'restic check',
        async (signal) => {
          // A lock left by a restic that died with its worker would block the check (and every
          // later one) until someone unlocks by hand; the step removes it and says so.
          const removed = await driver.removeStaleLocks(repo, signal);
          await driver.check(repo, signal);
          return { snapshots: await driver.listSnapshots(repo, signal), removed };
        },
      );
      return {
        snapshots,
        summary: `restic check: no errors; ${plural(snapshots.length, 'snapshot')}${removed.length ? `; ${describeRemoved(removed)}` : ''}`,
      };
    },

    async restoreToStaging({ repository, launch, snapshotId, path: snapshotPath, stagingDir }) {
      const repo = await access(repository, launch);
      const processFile = restoreProcessFile(stagingDir);
      await withHeartbeat(
        () => `restic restore ${snapshotId}`,
        async (signal) => {
          // A previous attempt's restic may still be writing into staging (its worker lost, or
          // not yet stopped): wait until it is gone before clearing what it left.
          await waitForPreviousRestore(processFile, driver, repo, signal);
          // A retry finds what a failed attempt left; restoring over it could keep stray files.
          await emptyDirectory(stagingDir);
          await driver.restore(repo, snapshotId, snapshotPath, stagingDir, signal, (pid) => processFile.record(pid));
        },
      );
      await processFile.clear();
      const files = (await listTree(stagingDir)).filter((entry) => entry.type === 'file');
      return { stagingDir, files: files.length, bytes: sum(files.map((file) => file.size)), resticVerified: true };
    },

    async verifyRestoredContent(input) {
      const repo = await access(input.repository, input.launch);
      const progress: VerifyProgress = { checkedFiles: 0, of: 0 };
      return withHeartbeat(
        () => progress,
        (signal) => verify(driver, repo, input, progress, signal),
      );
    },
  };
}

/** Where a restore records its restic process: beside the staging folder (inside, it would be restored content). */
function restoreProcessFile(stagingDir: string): RestoreProcessFile {
  return new RestoreProcessFile(path.join(path.dirname(stagingDir), `.${path.basename(stagingDir)}.restic-process.json`));
}

function describeRemoved(removed: RemovedLock[]): string {
  const locks = removed.map((lock) => `PID ${lock.pid} on ${lock.hostname} since ${lock.createdAt}: ${lock.why}`);
  return `removed ${plural(removed.length, 'stale lock')} with restic unlock (${locks.join('; ')})`;
}

/** What a heartbeat reports while files are being compared. */
interface VerifyProgress {
  checkedFiles: number;
  of: number;
}

/**
 * Compares the staging folder with the snapshot entry by entry: the same paths of the same types,
 * and for every file the sha256 of the bytes restic holds (`restic dump`) equal to the sha256 of
 * the restored file (reading it whole also proves it opens).
 */
async function verify(
  driver: BackupDriver,
  repo: BackupRepositoryAccess,
  { snapshotId, path: snapshotPath, stagingDir }: VerifyRestoredContentInput,
  progress: VerifyProgress,
  signal: AbortSignal | undefined,
): Promise<VerifyRestoredContentResult> {
  if (!(await pathExists(stagingDir))) {
    throw ApplicationFailure.nonRetryable(`staging folder ${stagingDir} does not exist; nothing to verify`, FileFailureType.stagingMissing);
  }
  const [expected, staged] = await Promise.all([driver.listFiles(repo, snapshotId, snapshotPath, signal), listTree(stagingDir)]);
  const { problems, filesInBoth } = compareEntries(expected, staged);
  progress.of = filesInBoth.length;

  const checksums = await mapConcurrently(filesInBoth, DUMP_CONCURRENCY, async (file): Promise<FileChecksum> => {
    const [expectedSha, restored] = await Promise.all([
      driver.fileSha256(repo, snapshotId, path.posix.join(snapshotPath, file.path), signal),
      readRestored(path.join(stagingDir, file.path)),
    ]);
    progress.checkedFiles++;
    if ('unreadable' in restored) problems.push(`${file.path}: cannot be opened (${restored.unreadable})`);
    else if (restored.sha256 !== expectedSha) {
      problems.push(`${file.path}: content differs from the snapshot (sha256 ${short(restored.sha256)} instead of ${short(expectedSha)})`);
    }
    return { path: file.path, bytes: file.size, sha256: expectedSha };
  });

  if (problems.length > 0) {
    problems.sort();
    const named = problems.slice(0, PROBLEMS_NAMED);
    const more = problems.length > named.length ? `; and ${problems.length - named.length} more` : '';
    throw ApplicationFailure.nonRetryable(
      `restored content in ${stagingDir} does not match snapshot ${snapshotId} at ${snapshotPath}: ` +
        `${plural(problems.length, 'problem')}: ${named.join('; ')}${more}`,
      CHECKSUM_MISMATCH,
      { problems: named, total: problems.length },
    );
  }

  const manifest = checksums.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const manifestLines = manifest.map((entry) => `${entry.sha256}  ${entry.path}\n`).join('');
  return {
    files: manifest.length,
    bytes: sum(manifest.map((entry) => entry.bytes)),
    manifestSha256: createHash('sha256').update(manifestLines).digest('hex'),
    sample: manifest.slice(0, SAMPLE_SIZE),
  };
}

/**
 * Entries missing from staging, entries the snapshot does not hold, entries of another type;
 * and the files present on both sides, whose content is compared next.
 */
function compareEntries(expected: TreeEntry[], staged: TreeEntry[]): { problems: string[]; filesInBoth: TreeEntry[] } {
  const problems: string[] = [];
  const filesInBoth: TreeEntry[] = [];
  const stagedTypes = new Map(staged.map((entry) => [entry.path, entry.type]));
  const expectedPaths = new Set(expected.map((entry) => entry.path));
  for (const entry of expected) {
    const stagedType = stagedTypes.get(entry.path);
    if (!stagedType) problems.push(`${entry.path}: missing from staging`);
    else if (stagedType !== entry.type) {
      problems.push(`${entry.path}: a ${stagedType} in staging but a ${entry.type} in the snapshot`);
    } else if (entry.type === 'file') filesInBoth.push(entry);
  }
  for (const entry of staged) {
    if (!expectedPaths.has(entry.path)) problems.push(`${entry.path}: in staging but not in the snapshot`);
  }
  return { problems, filesInBoth };
}

async function readRestored(file: string): Promise<{ sha256: string } | { unreadable: string }> {
  try {
    return { sha256: await sha256File(file) };
  } catch (error) {
    return { unreadable: (error as NodeJS.ErrnoException).code ?? String(error) };
  }
}

/** Like Promise.all over items.map(work), with at most `limit` calls in flight. */
async function mapConcurrently<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

function short(sha256: string): string {
  return `${sha256.slice(0, 12)}…`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
