import type { Host } from '@runbooks/contracts';
import { spawn } from 'node:child_process';
import {
  CommandHostDriver,
  OutputCollector,
  type CommandHostDriverOptions,
  type CommandResult,
  type CommandSession,
  type CommandTransport,
} from './command-driver';
import { HostFailureType, retryable } from './failures';

/** Time a command gets to end after SIGTERM before its whole process group is killed. */
const KILL_GRACE_MS = 10_000;

/** Runs each command as `bash -c` on the worker itself, in its own process group. */
export class LocalTransport implements CommandTransport {
  readonly kind = 'local';

  needsSudo(): boolean {
    return process.getuid?.() !== 0;
  }

  async open(_host: Host, signal?: AbortSignal): Promise<CommandSession> {
    signal?.throwIfAborted();
    return { run: runLocal, close: () => undefined };
  }
}

/** A HostDriver for the worker's own machine: the OS family's commands run locally (see OsCommands). */
export class LocalHostDriver extends CommandHostDriver {
  constructor(options: CommandHostDriverOptions) {
    super(new LocalTransport(), options);
  }
}

function runLocal(script: string, timeoutMs: number, signal?: AbortSignal): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const child = spawn('bash', ['-c', script], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const output = new OutputCollector();
    let timedOut = false;
    let cancelled = false;
    let killTimer: NodeJS.Timeout | undefined;
    const stop = () => {
      const group = child.pid;
      if (group === undefined) return;
      const kill = (sig: NodeJS.Signals) => {
        try {
          process.kill(-group, sig);
        } catch {
          // the group has ended already
        }
      };
      kill('SIGTERM');
      killTimer ??= setTimeout(() => kill('SIGKILL'), KILL_GRACE_MS);
    };
    const timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, timeoutMs);
    const onAbort = () => {
      cancelled = true;
      stop();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const done = () => {
      clearTimeout(timer);
      clearTimeout(killTimer);
      signal?.removeEventListener('abort', onAbort);
    };
    child.stdout.on('data', output.stdout);
    child.stderr.on('data', output.stderr);
    child.on('error', (error) => {
      done();
      reject(retryable(`local host: bash cannot be started on the worker: ${error.message}`, HostFailureType.commandFailed));
    });
    child.on('close', (code) => {
      done();
      if (cancelled) reject(signal?.reason);
      else resolve(output.result(code, timedOut));
    });
  });
}
