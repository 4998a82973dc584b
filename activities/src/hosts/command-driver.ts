import { HOST_COMMAND_SECONDS, type Host, type OsFamily, type Patch } from '@runbooks/contracts';
import type { Store } from '@runbooks/store';
import type { HostHealthResult, PatchHostResult, RestoreHostSnapshotResult, SnapshotHostResult } from '../types';
import type { HostDriver } from './driver';
import { HostFailureType, nonRetryable, retryable } from './failures';
import { OperationLedger, snapshotIdFor, type LedgerEntry } from './ledger';
import {
  DEFAULT_OS_COMMANDS,
  parsePackageVersions,
  renderCommand,
  shellQuote,
  versionMatches,
  type CommandValues,
  type OsCommands,
} from './os-commands';

/** What one command did. Output beyond the caps is dropped (stdout: `stdoutTruncated`; stderr keeps its end). */
export interface CommandResult {
  /** null when the command was killed (by a signal or its time limit). */
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  stdoutTruncated: boolean;
}

/** A connection to one host on which commands run one after another. */
export interface CommandSession {
  /** Runs one bash script; resolves with its outcome whatever its exit code; rejects when cancelled or the connection fails. */
  run(script: string, timeoutMs: number, signal?: AbortSignal): Promise<CommandResult>;
  close(): void;
}

/** How commands reach a host: over SSH, or on the worker itself. */
export interface CommandTransport {
  /** 'ssh' or 'local': names state files and messages. */
  readonly kind: string;
  open(host: Host, signal?: AbortSignal): Promise<CommandSession>;
  /** Whether the commands run as another user than root, so `{{sudo}}` is needed. */
  needsSudo(host: Host): boolean;
}

/** How long each kind of command may run before it is stopped. */
export interface CommandTimeouts {
  snapshot: number;
  patch: number;
  health: number;
  restore: number;
}

export interface CommandHostDriverOptions {
  /** Where the driver keeps what stays on its worker (ssh: pinned host keys). */
  stateDir: string;
  /** Keeps the ledger of applied keys and the snapshots' records, shared by every worker. */
  store: Store;
  /** Replaces the default commands of an OS family (DEFAULT_OS_COMMANDS). */
  osCommands?: Partial<Record<OsFamily, OsCommands>>;
  timeoutsMs?: Partial<CommandTimeouts>;
}

/** The package versions a snapshot recorded, kept in the store (scope: the transport's kind), so a rollback on any worker finds it. */
export interface CommandSnapshotFile {
  host: string;
  snapshotId: string;
  takenAt: string;
  packages: Record<string, string>;
}

/** The commands' limits, from the contract the runbooks derive their host timeout from (HOST_COMMAND_SECONDS). */
export const DEFAULT_COMMAND_TIMEOUTS: CommandTimeouts = {
  snapshot: HOST_COMMAND_SECONDS.snapshot * 1000,
  patch: HOST_COMMAND_SECONDS.patch * 1000,
  health: HOST_COMMAND_SECONDS.health * 1000,
  restore: HOST_COMMAND_SECONDS.restore * 1000,
};

export const STDOUT_LIMIT = 16 * 1024 * 1024;
export const STDERR_LIMIT = 64 * 1024;
/** stderr lines an error message quotes (the last ones: where package managers say what went wrong). */
const MESSAGE_LINES = 10;
const MESSAGE_CHARS = 2_000;

/**
 * A HostDriver that acts through the OS family's command templates over some transport. It holds
 * everything ssh and local hosts share: rendering the templates, reading their output, checking
 * that patches landed, the snapshot files, and the ledger that applies each key once.
 */
export class CommandHostDriver implements HostDriver {
  private readonly operations: OperationLedger;
  private readonly commands: Partial<Record<OsFamily, OsCommands>>;
  private readonly timeouts: CommandTimeouts;
  private readonly store: Store;

  constructor(
    private readonly transport: CommandTransport,
    options: CommandHostDriverOptions,
  ) {
    // No `recover` after a dead claimant: the commands converge (installing the versions a host
    // already has changes nothing), so applying them again is safe.
    this.operations = new OperationLedger(options.store, transport.kind);
    this.store = options.store;
    this.commands = { ...DEFAULT_OS_COMMANDS, ...options.osCommands };
    this.timeouts = { ...DEFAULT_COMMAND_TIMEOUTS, ...options.timeoutsMs };
  }

  /** Every operation applied, in order. */
  ledger(): Promise<LedgerEntry[]> {
    return this.operations.entries();
  }

  snapshot(host: Host, key: string, signal?: AbortSignal, packages?: readonly string[]): Promise<SnapshotHostResult> {
    const commands = this.commandsFor(host);
    return this.operations.once(host.name, 'snapshot', key, () =>
      this.withSession(host, signal, async (session) => {
        const installed = await this.installedVersions(session, host, commands, signal);
        const wanted = packages ? new Set(packages) : undefined;
        const snapshotId = snapshotIdFor(host.name, key);
        if (commands.keepPackages && packages)
          await this.keepPackages(session, host, commands.keepPackages, commands, snapshotId, installed, packages, signal);
        const file: CommandSnapshotFile = {
          host: host.name,
          snapshotId,
          takenAt: new Date().toISOString(),
          packages: Object.fromEntries([...installed].filter(([name]) => !wanted || wanted.has(name)).sort()),
        };
        await this.store.snapshots.put(this.transport.kind, snapshotId, host.name, file.takenAt, JSON.stringify(file));
        return { snapshotId };
      }),
    );
  }

  patch(host: Host, patches: readonly Patch[], key: string, signal?: AbortSignal): Promise<PatchHostResult> {
    const commands = this.commandsFor(host);
    return this.operations.once(host.name, 'patch', key, () =>
      this.withSession(host, signal, async (session) => {
        const before = await this.installedVersions(session, host, commands, signal);
        const result = await session.run(this.render(host, commands.patch, commands, patches), this.timeouts.patch, signal);
        if (result.timedOut || result.code !== 0) {
          throw nonRetryable(this.failureMessage(host, 'the patch command', result, this.timeouts.patch), HostFailureType.patchFailed, {
            host: host.name,
            exitCode: result.code,
          });
        }
        const after = await this.installedVersions(session, host, commands, signal);
        // A package the host does not have is not installed by a patch (only upgraded where present).
        const missed = patches.filter((p) => after.has(p.package) && !versionMatches(after.get(p.package), p.version));
        if (missed.length > 0) {
          throw nonRetryable(
            `${this.where(host)}: the patch command succeeded but ` +
              missed.map((p) => `${p.package} is at ${after.get(p.package)}, not ${p.version}`).join('; '),
            HostFailureType.patchFailed,
            { host: host.name },
          );
        }
        return {
          changed: patches
            .filter((p) => after.has(p.package) && before.get(p.package) !== after.get(p.package))
            .map((p) => ({ package: p.package, from: before.get(p.package) ?? null, to: after.get(p.package) as string })),
        };
      }),
    );
  }

  health(host: Host, signal?: AbortSignal): Promise<HostHealthResult> {
    const commands = this.commandsFor(host);
    return this.withSession(host, signal, async (session) => {
      const result = await session.run(
        this.render(host, commands.health, commands, undefined, { health: host.health }),
        this.timeouts.health,
        signal,
      );
      if (result.timedOut) {
        return { healthy: false, detail: `${this.where(host)}: the health check did not finish within ${seconds(this.timeouts.health)}` };
      }
      const said = summary(`${result.stdout}\n${result.stderr}`) || 'no output';
      return result.code === 0
        ? { healthy: true, detail: `${this.where(host)}: ${said}` }
        : { healthy: false, detail: `${this.where(host)}: health check exited ${result.code ?? 'on a signal'}: ${said}` };
    });
  }

  restore(host: Host, snapshotId: string, key: string, signal?: AbortSignal): Promise<RestoreHostSnapshotResult> {
    const commands = this.commandsFor(host);
    return this.operations.once(host.name, 'restore', key, async () => {
      const snapshot = await this.readSnapshot(host, snapshotId);
      return this.withSession(host, signal, async (session) => {
        const current = await this.installedVersions(session, host, commands, signal);
        const back = Object.entries(snapshot.packages)
          .filter(([name, version]) => current.get(name) !== version)
          .map(([name, version]) => ({ package: name, version }));
        if (back.length === 0) return { restored: [] };
        const result = await session.run(
          this.render(host, commands.restore, commands, back, { snapshotId }),
          this.timeouts.restore,
          signal,
        );
        if (result.timedOut || result.code !== 0) {
          throw retryable(this.failureMessage(host, 'the restore command', result, this.timeouts.restore), HostFailureType.commandFailed, {
            host: host.name,
            exitCode: result.code,
          });
        }
        const after = await this.installedVersions(session, host, commands, signal);
        const missed = back.filter((p) => after.get(p.package) !== p.version);
        if (missed.length > 0) {
          throw retryable(
            `${this.where(host)}: the restore command succeeded but ` +
              missed.map((p) => `${p.package} is at ${after.get(p.package) ?? 'nothing'}, not ${p.version}`).join('; '),
            HostFailureType.commandFailed,
            { host: host.name },
          );
        }
        return { restored: back.map((p) => p.package).sort() };
      });
    });
  }

  /**
   * Runs one bash script on the host (as root: through sudo when the transport needs it), built
   * for the host's package root (OsCommands.packageRoot; '' for the machine itself). For runbooks
   * whose commands are their own (software-conflict); their ledger and failures are theirs too.
   */
  runScript(host: Host, build: (packageRoot: string) => string, timeoutMs: number, signal?: AbortSignal): Promise<CommandResult> {
    const script = build(this.commandsFor(host).packageRoot ?? '');
    const asRoot = this.transport.needsSudo(host) ? `sudo -n bash -c ${shellQuote(script)}` : script;
    return this.withSession(host, signal, (session) => session.run(asRoot, timeoutMs, signal));
  }

  /** Runs the snapshot template: every installed package and its version. */
  private async installedVersions(
    session: CommandSession,
    host: Host,
    commands: OsCommands,
    signal?: AbortSignal,
  ): Promise<Map<string, string>> {
    const result = await session.run(this.render(host, commands.snapshot, commands), this.timeouts.snapshot, signal);
    if (result.timedOut || result.code !== 0) {
      throw retryable(
        this.failureMessage(host, 'listing the installed packages', result, this.timeouts.snapshot),
        HostFailureType.commandFailed,
        {
          host: host.name,
          exitCode: result.code,
        },
      );
    }
    if (result.stdoutTruncated) {
      throw nonRetryable(`${this.where(host)}: the package list is larger than ${STDOUT_LIMIT} bytes`, HostFailureType.commandFailed);
    }
    return parsePackageVersions(result.stdout);
  }

  /** Keeps on the host the installed versions of the snapshot's packages, for a rollback after they leave the index. */
  private async keepPackages(
    session: CommandSession,
    host: Host,
    template: string,
    commands: OsCommands,
    snapshotId: string,
    installed: Map<string, string>,
    packages: readonly string[],
    signal?: AbortSignal,
  ): Promise<void> {
    const present = packages
      .filter((name) => installed.has(name))
      .map((name) => ({ package: name, version: installed.get(name) as string }));
    if (present.length === 0) return;
    const result = await session.run(this.render(host, template, commands, present, { snapshotId }), this.timeouts.snapshot, signal);
    if (result.timedOut || result.code !== 0) {
      throw retryable(
        this.failureMessage(host, 'keeping the installed packages for a rollback', result, this.timeouts.snapshot),
        HostFailureType.commandFailed,
        {
          host: host.name,
          exitCode: result.code,
        },
      );
    }
  }

  private render(
    host: Host,
    template: string,
    commands: OsCommands,
    patches?: readonly Patch[],
    extra?: Pick<CommandValues, 'snapshotId' | 'health'>,
  ): string {
    return renderCommand(template, commands, { patches, sudo: this.transport.needsSudo(host), ...extra });
  }

  private commandsFor(host: Host): OsCommands {
    const commands = this.commands[host.osFamily];
    if (!commands) {
      throw nonRetryable(`${this.where(host)}: no commands are configured for OS family ${host.osFamily}`, HostFailureType.misconfigured, {
        host: host.name,
      });
    }
    return commands;
  }

  private withSession<T>(host: Host, signal: AbortSignal | undefined, work: (session: CommandSession) => Promise<T>): Promise<T> {
    return withSession(this.transport, host, signal, work);
  }

  private async readSnapshot(host: Host, snapshotId: string): Promise<CommandSnapshotFile> {
    const record = /^[0-9a-f]{16}$/.test(snapshotId) ? await this.store.snapshots.get(this.transport.kind, snapshotId) : undefined;
    const snapshot = record ? (JSON.parse(record.body) as CommandSnapshotFile) : undefined;
    if (!snapshot || snapshot.host !== host.name) {
      throw nonRetryable(`${this.where(host)}: no snapshot ${snapshotId} was taken of this host`, HostFailureType.snapshotNotFound, {
        host: host.name,
      });
    }
    return snapshot;
  }

  private where(host: Host): string {
    return `${this.transport.kind} host ${host.name}`;
  }

  /** Names the host, what failed and how, and the end of the command's stderr. */
  private failureMessage(host: Host, what: string, result: CommandResult, timeoutMs: number): string {
    const how = result.timedOut ? `did not finish within ${seconds(timeoutMs)}` : `failed (exit code ${result.code ?? 'none: killed'})`;
    return `${this.where(host)}: ${what} ${how}: ${summary(result.stderr) || summary(result.stdout) || 'no output'}`;
  }
}

/** Runs `work` on a session opened on the host, closed whatever `work` does. */
export async function withSession<T>(
  transport: CommandTransport,
  host: Host,
  signal: AbortSignal | undefined,
  work: (session: CommandSession) => Promise<T>,
): Promise<T> {
  const session = await transport.open(host, signal);
  try {
    return await work(session);
  } finally {
    session.close();
  }
}

/** The last non-blank lines of a command's output, short enough for a message. */
export function summary(output: string): string {
  const lines = output
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  const text = lines.slice(-MESSAGE_LINES).join('; ');
  return text.length > MESSAGE_CHARS ? `…${text.slice(-MESSAGE_CHARS)}` : text;
}

function seconds(ms: number): string {
  return `${Math.round(ms / 1000)}s`;
}

/** Collects a command's output within the caps: the head of stdout, the tail of stderr. */
export class OutputCollector {
  private readonly stdoutChunks: Buffer[] = [];
  private stdoutBytes = 0;
  private stderrTail = Buffer.alloc(0);
  stdoutTruncated = false;

  stdout = (chunk: Buffer): void => {
    if (this.stdoutBytes + chunk.length > STDOUT_LIMIT) {
      this.stdoutTruncated = true;
      chunk = chunk.subarray(0, Math.max(0, STDOUT_LIMIT - this.stdoutBytes));
    }
    this.stdoutChunks.push(chunk);
    this.stdoutBytes += chunk.length;
  };

  stderr = (chunk: Buffer): void => {
    const joined = Buffer.concat([this.stderrTail, chunk]);
    this.stderrTail = joined.length > STDERR_LIMIT ? joined.subarray(joined.length - STDERR_LIMIT) : joined;
  };

  result(code: number | null, timedOut: boolean): CommandResult {
    return {
      code,
      timedOut,
      stdout: Buffer.concat(this.stdoutChunks).toString('utf8'),
      stderr: this.stderrTail.toString('utf8'),
      stdoutTruncated: this.stdoutTruncated,
    };
  }
}
