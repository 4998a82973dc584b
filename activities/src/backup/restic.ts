import { ApplicationFailure } from '@temporalio/common';
import type { SnapshotSummary } from '@runbooks/contracts';
import { createHash } from 'node:crypto';
import { chmod, lstat, mkdir, mkdtemp, readdir, rename, rm, utimes } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { spawnInGroup, stopGroup } from '../child-processes';
import type { EntryType, TreeEntry } from '../files/tree';
import { RepositoryLocks, lockHolder, type RemovedLock, type RepositoryLock } from './repository-locks';
import { abortableDelay } from '../wait';

/** A repository with its password resolved; lives only inside one activity call. */
export interface BackupRepositoryAccess {
  url: string;
  password: string;
}

/** The outcome of a password-free probe: `found` false when the backend cannot be probed without the password. */
export interface RepositoryProbe {
  found: boolean;
  summary: string;
}

/** ApplicationFailure types a backup driver throws; workflows and reports match on them. */
export const BackupFailureType = {
  /** Missing, unreachable, or not a repository at all: may come back, so retryable. */
  unreachable: 'BackupRepositoryUnreachable',
  /** The password opened no key: said only as "could not open the repository" (see classifyFailure). */
  unauthorized: 'BackupRepositoryUnauthorized',
  /** `restic check` found damage (missing or corrupt pack files, broken trees). */
  unhealthy: 'BackupRepositoryUnhealthy',
  /** Another restic process holds an exclusive lock; retryable. */
  locked: 'BackupRepositoryLocked',
  snapshotNotFound: 'SnapshotNotFound',
  /** The snapshot holds no directory at the requested path. */
  pathNotInSnapshot: 'SnapshotPathMissing',
  toolMissing: 'ResticUnavailable',
  commandFailed: 'ResticCommandFailed',
} as const;

/** The backup tool as the activities use it. Paths inside a snapshot are absolute, '/'-separated. */
export interface BackupDriver {
  /**
   * What can be learnt about the repository without its password: that its location holds a
   * restic repository (a config file and at least one key). Checking more would need the password,
   * and an answer that depends on it, given before an approval, would tell a guess from a miss.
   */
  probe(url: string, signal?: AbortSignal): Promise<RepositoryProbe>;
  /** Verifies the repository's structure; throws BackupRepositoryUnhealthy saying what is damaged. */
  check(repo: BackupRepositoryAccess, signal?: AbortSignal): Promise<void>;
  /** Every snapshot, oldest first. */
  listSnapshots(repo: BackupRepositoryAccess, signal?: AbortSignal): Promise<SnapshotSummary[]>;
  /**
   * Restores the directory `snapshotPath` of the snapshot so that its content becomes the content
   * of `stagingDir` (created if absent; must be empty), with the tool's own verification.
   */
  restore(
    repo: BackupRepositoryAccess,
    snapshotId: string,
    snapshotPath: string,
    stagingDir: string,
    signal?: AbortSignal,
    /** Called with the restoring process's id once it started (the group it leads is killed with it). */
    onSpawn?: (pid: number) => void,
  ): Promise<void>;
  /**
   * Backs up the folder `sourcePath` as one new snapshot recorded under `hostname` with `tags`;
   * resolves with the id restic reports (the short form, in some versions).
   */
  backup(
    repo: BackupRepositoryAccess,
    sourcePath: string,
    hostname: string,
    tags: readonly string[],
    signal?: AbortSignal,
  ): Promise<string>;
  /** The locks held in the repository now (read without locking). */
  listLocks(repo: BackupRepositoryAccess, signal?: AbortSignal): Promise<RepositoryLock[]>;
  /** Every entry below the directory `snapshotPath` in the snapshot, paths relative to it. */
  listFiles(repo: BackupRepositoryAccess, snapshotId: string, snapshotPath: string, signal?: AbortSignal): Promise<TreeEntry[]>;
  /** sha256 (hex) of one file's bytes as the snapshot holds them. */
  fileSha256(repo: BackupRepositoryAccess, snapshotId: string, filePath: string, signal?: AbortSignal): Promise<string>;
  /**
   * Removes the locks whose holder is gone (`restic unlock`, which removes only stale locks: its
   * process no longer runs on this machine, or it is older than restic's bound) and says which.
   */
  removeStaleLocks(repo: BackupRepositoryAccess, signal?: AbortSignal): Promise<RemovedLock[]>;
}

export interface ResticDriverOptions {
  /**
   * How long a command waits for a lock another live restic holds before it fails (retryably).
   * restic 0.14 has no --retry-lock: the driver retries itself, with backoff, while the activity
   * heartbeats. Default 30 minutes.
   */
  lockWaitMs?: number;
  /** First and longest pause between two tries for a held lock (jittered). */
  lockRetryMs?: { initial: number; max: number };
  /** Caps restic's download rate (KiB/s, `--limit-download`), so a restore does not saturate the link to a remote repository. */
  limitDownloadKiB?: number;
}

const DEFAULT_LOCK_WAIT_MS = 30 * 60_000;
const DEFAULT_LOCK_RETRY_MS = { initial: 250, max: 5_000 };

/** Enough of restic's complaints to explain a failure without holding a runaway log in memory. */
const STDERR_LIMIT = 64 * 1024;
const MESSAGE_LINES = 10;
/** stderr lines that say nothing about the cause. */
const STDERR_NOISE = [/retrying after/, /^using temporary cache/, /^create exclusive lock/, /^\[[\d:]+\]/];

interface SnapshotJson {
  id: string;
  short_id: string;
  time: string;
  hostname: string;
  paths: string[];
  tags?: string[];
}

interface LsLineJson {
  struct_type: 'snapshot' | 'node';
  type?: string;
  path?: string;
  size?: number;
}

/**
 * Drives the restic binary. Nothing goes through a shell; the repository and its password reach
 * restic only through its environment (never argv, which any local user can read in `ps`).
 */
export class ResticDriver implements BackupDriver {
  private readonly lockWaitMs: number;
  private readonly lockRetryMs: { initial: number; max: number };
  private readonly locks: RepositoryLocks;
  private readonly globalArgs: string[];

  constructor(
    private readonly binary = 'restic',
    /** restic's local cache; under the temp dir so the worker's $HOME stays untouched. */
    private readonly cacheDir = path.join(os.tmpdir(), 'runbooks-restic-cache'),
    options: ResticDriverOptions = {},
  ) {
    this.lockWaitMs = options.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS;
    this.lockRetryMs = options.lockRetryMs ?? DEFAULT_LOCK_RETRY_MS;
    this.locks = new RepositoryLocks((repo, args, signal) => this.runOnce(repo, args, { signal }));
    this.globalArgs = [
      '--cache-dir',
      cacheDir,
      ...(options.limitDownloadKiB ? ['--limit-download', String(options.limitDownloadKiB)] : []),
    ];
  }

  async probe(url: string, signal?: AbortSignal): Promise<RepositoryProbe> {
    const local = localRepositoryPath(url);
    if (local !== undefined) return probeLocal(local);
    if (url.startsWith('rest:')) return probeRest(url.slice('rest:'.length), signal);
    return {
      found: false,
      summary: `a ${url.split(':')[0]} repository cannot be checked without its password; it is opened after the approval`,
    };
  }

  /** Needs restic's exclusive lock: waits its turn behind other restic processes (see run). */
  async check(repo: BackupRepositoryAccess, signal?: AbortSignal): Promise<void> {
    await this.run(repo, ['check'], { signal });
  }

  removeStaleLocks(repo: BackupRepositoryAccess, signal?: AbortSignal): Promise<RemovedLock[]> {
    return this.locks.removeStale(repo, signal);
  }

  listLocks(repo: BackupRepositoryAccess, signal?: AbortSignal): Promise<RepositoryLock[]> {
    return this.locks.list(repo, signal);
  }

  async listSnapshots(repo: BackupRepositoryAccess, signal?: AbortSignal): Promise<SnapshotSummary[]> {
    // Snapshot files never change once written: reading them needs no lock, so no exclusive
    // `check` or `prune` of another run can make this wait or fail.
    const stdout = await this.run(repo, ['--no-lock', 'snapshots', '--json'], { signal });
    const snapshots = JSON.parse(stdout) as SnapshotJson[];
    return snapshots
      .map((s) => ({
        id: s.id,
        shortId: s.short_id,
        time: s.time,
        hostname: s.hostname,
        paths: s.paths,
        tags: s.tags ?? [],
      }))
      .sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
  }

  async restore(
    repo: BackupRepositoryAccess,
    snapshotId: string,
    snapshotPath: string,
    stagingDir: string,
    signal?: AbortSignal,
    onSpawn?: (pid: number) => void,
  ): Promise<void> {
    const root = normalizeSnapshotPath(snapshotPath);
    await mkdir(stagingDir, { recursive: true });
    // restic 0.14 restores the full path below --target (no `snapshot:subpath` yet). Restoring into
    // a scratch folder inside stagingDir keeps the moves below on one filesystem, and a retry that
    // empties stagingDir also clears what a crashed attempt left.
    const scratch = await mkdtemp(path.join(stagingDir, '.restic-restore-'));
    try {
      // Keeps its shared lock: it coexists with other restores and reads, and keeps a prune from
      // deleting what it is reading. onSpawn lets a retried attempt find this process (see restoreToStaging).
      await this.run(repo, ['restore', snapshotId, '--target', scratch, '--include', filterPattern(root), '--verify'], {
        signal,
        onSpawn,
      });
      const restoredRoot = path.join(scratch, root);
      const restored = await lstat(restoredRoot).catch(() => undefined);
      if (!restored?.isDirectory()) throw pathNotInSnapshot(snapshotId, root);
      for (const name of await readdir(restoredRoot)) {
        await rename(path.join(restoredRoot, name), path.join(stagingDir, name));
      }
      // The folder itself comes back as it was backed up too (a private 0700 folder stays private).
      await chmod(stagingDir, restored.mode);
      await utimes(stagingDir, restored.atime, restored.mtime);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }

  async backup(
    repo: BackupRepositoryAccess,
    sourcePath: string,
    hostname: string,
    tags: readonly string[],
    signal?: AbortSignal,
  ): Promise<string> {
    // Takes restic's shared lock: backups coexist with restores and other backups.
    const stdout = await this.run(repo, ['backup', '--json', '--host', hostname, ...tags.flatMap((t) => ['--tag', t]), sourcePath], {
      signal,
    });
    const summary = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { message_type?: string; snapshot_id?: string })
      .find((m) => m.message_type === 'summary');
    if (!summary?.snapshot_id) {
      throw ApplicationFailure.nonRetryable(`restic backup of ${sourcePath} reported no snapshot`, BackupFailureType.commandFailed);
    }
    return summary.snapshot_id;
  }

  async listFiles(repo: BackupRepositoryAccess, snapshotId: string, snapshotPath: string, signal?: AbortSignal): Promise<TreeEntry[]> {
    const root = normalizeSnapshotPath(snapshotPath);
    const prefix = root === '/' ? '/' : `${root}/`;
    const entries: TreeEntry[] = [];
    let snapshotFound = false;
    let rootIsDirectory = root === '/';
    // One JSON object per line: the snapshot first, then its nodes (root included).
    const onLine = (line: string) => {
      const item = JSON.parse(line) as LsLineJson;
      if (item.struct_type === 'snapshot') snapshotFound = true;
      else if (item.path === root) rootIsDirectory = item.type === 'dir';
      else if (item.path?.startsWith(prefix)) {
        entries.push({ path: item.path.slice(prefix.length), type: item.type as EntryType, size: item.size ?? 0 });
      }
    };
    const lines = lineReader(onLine);
    // Read-only, and restic checks every blob it reads: without a lock, a concurrent prune can
    // only make it fail (and be retried), never return wrong content.
    await this.run(repo, ['--no-lock', 'ls', '--json', '--recursive', snapshotId, root], { signal, onStdout: lines.push });
    lines.end();
    // restic ls only warns ("Ignoring ...") and exits 0 when the snapshot id matches nothing.
    if (!snapshotFound) throw snapshotNotFound(snapshotId, repo);
    if (!rootIsDirectory) throw pathNotInSnapshot(snapshotId, root);
    return entries;
  }

  async fileSha256(repo: BackupRepositoryAccess, snapshotId: string, filePath: string, signal?: AbortSignal): Promise<string> {
    const hash = createHash('sha256');
    await this.run(repo, ['--no-lock', 'dump', snapshotId, filePath], { signal, onStdout: (chunk) => hash.update(chunk) });
    return hash.digest('hex');
  }

  /**
   * Runs one restic command and waits its turn for the repository lock: while another live restic
   * holds a conflicting lock it retries with jittered backoff (the lock in the repository is what
   * serializes workers on any machine); a lock whose holder is gone is removed with `restic unlock`.
   * Every retry starts the command afresh, so streamed output must be reset by the caller: only
   * lock failures are retried, and restic takes its lock before it writes any output.
   */
  private async run(repo: BackupRepositoryAccess, args: string[], options: RunOptions): Promise<string> {
    const deadline = Date.now() + this.lockWaitMs;
    let pause = this.lockRetryMs.initial;
    for (;;) {
      try {
        return await this.runOnce(repo, args, options);
      } catch (error) {
        if (!(error instanceof ApplicationFailure) || error.type !== BackupFailureType.locked) throw error;
        const holder = lockHolder(error.message);
        const removed = holder?.stale ? await this.locks.removeStale(repo, options.signal) : [];
        if (removed.length > 0) continue;
        if (Date.now() + pause > deadline) throw error;
        await abortableDelay(pause * (0.5 + Math.random()), options.signal);
        pause = Math.min(pause * 2, this.lockRetryMs.max);
      }
    }
  }

  /** Runs one restic command; resolves with stdout (unless streamed to onStdout), rejects with a classified failure. */
  private runOnce(repo: BackupRepositoryAccess, args: string[], options: RunOptions): Promise<string> {
    return new Promise((resolve, reject) => {
      if (options.signal?.aborted) return reject(options.signal.reason);
      const child = spawnInGroup(this.binary, [...this.globalArgs, ...args], { env: resticEnvironment(repo) });
      if (child.pid !== undefined) options.onSpawn?.(child.pid);
      // SIGTERM first: restic removes its own lock when it is stopped that way.
      let cancelKill: (() => void) | undefined;
      const onAbort = () => (cancelKill ??= stopGroup(child));
      options.signal?.addEventListener('abort', onAbort, { once: true });
      const done = () => {
        cancelKill?.();
        options.signal?.removeEventListener('abort', onAbort);
      };
      const stdout: Buffer[] = [];
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => {
        if (!options.onStdout) {
          stdout.push(chunk);
          return;
        }
        try {
          options.onStdout(chunk);
        } catch (error) {
          onAbort();
          reject(error);
        }
      });
      child.stderr.on('data', (chunk: Buffer) => {
        if (stderr.length < STDERR_LIMIT) stderr += chunk.toString('utf8');
      });
      const toolMissing = () =>
        ApplicationFailure.nonRetryable(
          `restic is not installed on the worker (no executable "${this.binary}")`,
          BackupFailureType.toolMissing,
        );
      child.on('error', (error: NodeJS.ErrnoException) => {
        done();
        reject(error.code === 'ENOENT' ? toolMissing() : error);
      });
      child.on('close', (code) => {
        done();
        if (options.signal?.aborted) reject(options.signal.reason);
        // setpriv (see spawnInGroup) says so when it cannot start restic.
        else if (code === 127 && /failed to execute/.test(stderr)) reject(toolMissing());
        else if (code === 0) resolve(Buffer.concat(stdout).toString('utf8'));
        else reject(classifyFailure(repo, args.find((arg) => !arg.startsWith('-')) ?? args[0], code, stderr));
      });
    });
  }
}

interface RunOptions {
  signal?: AbortSignal;
  onStdout?: (chunk: Buffer) => void;
  /** Called with the process id once restic started. */
  onSpawn?: (pid: number) => void;
}

/** The variables restic reads; ones from the worker's own environment that would override or clash are dropped. */
function resticEnvironment(repo: BackupRepositoryAccess): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, RESTIC_REPOSITORY: repo.url, RESTIC_PASSWORD: repo.password };
  delete env.RESTIC_REPOSITORY_FILE;
  delete env.RESTIC_PASSWORD_FILE;
  delete env.RESTIC_PASSWORD_COMMAND;
  return env;
}

/** Turns restic's exit and stderr into a failure that says in plain words what is wrong. */
function classifyFailure(repo: BackupRepositoryAccess, command: string, code: number | null, stderr: string): ApplicationFailure {
  const where = `the backup repository at ${repositoryName(repo)}`;
  const detail = redact(stderrSummary(stderr), repo);
  // Generic words, no restic detail: what a guessed password gets is no more than "it did not open".
  if (/wrong password or no key found/.test(stderr)) {
    return ApplicationFailure.nonRetryable(`could not open the repository at ${repositoryName(repo)}`, BackupFailureType.unauthorized);
  }
  if (/repository contains errors/.test(stderr)) {
    return ApplicationFailure.nonRetryable(`${where} is damaged; restic check found: ${detail}`, BackupFailureType.unhealthy);
  }
  if (/repository is already locked/.test(stderr)) {
    return ApplicationFailure.retryable(`${where} is locked by another restic process: ${detail}`, BackupFailureType.locked);
  }
  if (/no matching ID found|invalid id|no snapshot found/.test(stderr)) {
    return ApplicationFailure.nonRetryable(`${where} has no such snapshot: ${detail}`, BackupFailureType.snapshotNotFound);
  }
  if (/not found in snapshot/.test(stderr)) {
    return ApplicationFailure.nonRetryable(`${where}: ${detail}`, BackupFailureType.pathNotInSnapshot);
  }
  if (
    /unable to open config file|unable to open repository|repository does not exist|dial tcp|no such host|connection refused|i\/o timeout/.test(
      stderr,
    )
  ) {
    return ApplicationFailure.retryable(
      `${where} cannot be reached or holds no restic repository: ${detail}`,
      BackupFailureType.unreachable,
    );
  }
  return ApplicationFailure.retryable(
    `restic ${command} failed (exit code ${code ?? 'none, killed'}): ${detail || 'no message'}`,
    BackupFailureType.commandFailed,
  );
}

function snapshotNotFound(snapshotId: string, repo: BackupRepositoryAccess): ApplicationFailure {
  return ApplicationFailure.nonRetryable(
    `the backup repository at ${repositoryName(repo)} has no snapshot ${snapshotId}`,
    BackupFailureType.snapshotNotFound,
  );
}

function pathNotInSnapshot(snapshotId: string, snapshotPath: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(`snapshot ${snapshotId} holds no directory ${snapshotPath}`, BackupFailureType.pathNotInSnapshot);
}

/** restic's error lines, without progress and retry noise, nor the repository location it echoes. */
function stderrSummary(stderr: string): string {
  return stderr
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !STDERR_NOISE.some((noise) => noise.test(line)))
    .filter((line, i, kept) => !line.startsWith('Is there a repository') && !kept[i - 1]?.startsWith('Is there a repository'))
    .map((line) => line.replace(/^Fatal: /, ''))
    .slice(0, MESSAGE_LINES)
    .join('; ');
}

/** The repository location fit for a message (a URL or path may embed credentials). */
/** The folder of a local repository (restic takes a bare path or `local:path`), else undefined. */
function localRepositoryPath(url: string): string | undefined {
  if (url.startsWith('local:')) return url.slice('local:'.length);
  return url.startsWith('/') ? url : undefined;
}

async function probeLocal(folder: string): Promise<RepositoryProbe> {
  const config = await lstat(path.join(folder, 'config')).catch(() => undefined);
  const keys = await readdir(path.join(folder, 'keys')).catch(() => [] as string[]);
  if (!config?.isFile() || keys.length === 0) throw noRepositoryAt(folder);
  return {
    found: true,
    summary: `a restic repository is at ${folder} (config and ${keys.length} key${keys.length === 1 ? '' : 's'}); its password is checked after the approval`,
  };
}

/** restic's REST protocol answers HEAD /config without a password (the server's own credentials aside). */
async function probeRest(base: string, signal?: AbortSignal): Promise<RepositoryProbe> {
  const where = base.replace(/(\w+:\/\/)[^/\s@]+@/g, '$1***@');
  // fetch refuses a URL with a login in it (and would echo it in its error): send it as basic auth instead.
  let configUrl: URL;
  try {
    configUrl = new URL(`${base.replace(/\/$/, '')}/config`);
  } catch {
    throw noRepositoryAt(where, 'not a URL');
  }
  const headers: Record<string, string> = {};
  if (configUrl.username || configUrl.password) {
    const login = `${decodeURIComponent(configUrl.username)}:${decodeURIComponent(configUrl.password)}`;
    headers.authorization = `Basic ${Buffer.from(login).toString('base64')}`;
    configUrl.username = '';
    configUrl.password = '';
  }
  const response = await fetch(configUrl, { method: 'HEAD', headers, signal: signal ?? AbortSignal.timeout(30_000) }).catch(
    (error: Error) => {
      throw ApplicationFailure.retryable(
        `the backup repository at ${where} cannot be reached: ${error.message}`,
        BackupFailureType.unreachable,
      );
    },
  );
  if (!response.ok) throw noRepositoryAt(where, `HEAD config answered ${response.status}`);
  return { found: true, summary: `a restic repository answers at ${where}; its password is checked after the approval` };
}

function noRepositoryAt(where: string, detail = 'no config file or no key'): ApplicationFailure {
  return ApplicationFailure.retryable(
    `the backup repository at ${where} cannot be reached or holds no restic repository (${detail})`,
    BackupFailureType.unreachable,
  );
}

function repositoryName(repo: BackupRepositoryAccess): string {
  return redact(repo.url, repo);
}

/** Hides the password wherever restic might echo it, and credentials inside URLs (`scheme://user:secret@`). */
function redact(text: string, repo: BackupRepositoryAccess): string {
  const withoutPassword = repo.password ? text.split(repo.password).join('***') : text;
  return withoutPassword.replace(/(\w+:\/\/)[^/\s@]+@/g, '$1***@');
}

function normalizeSnapshotPath(snapshotPath: string): string {
  const normalized = path.posix.normalize(snapshotPath);
  return normalized.length > 1 ? normalized.replace(/\/$/, '') : normalized;
}

/** restic --include takes glob patterns; escape so the path matches only itself. */
function filterPattern(snapshotPath: string): string {
  return snapshotPath.replace(/[\\*?[]/g, '\\$&');
}

/** Calls onLine for every non-blank line of a byte stream fed chunk by chunk. */
function lineReader(onLine: (line: string) => void): { push: (chunk: Buffer) => void; end: () => void } {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  const emit = (line: string) => {
    if (line.trim()) onLine(line);
  };
  return {
    push: (chunk) => {
      const lines = (pending + decoder.write(chunk)).split('\n');
      pending = lines.pop() ?? '';
      lines.forEach(emit);
    },
    end: () => emit(pending + decoder.end()),
  };
}
