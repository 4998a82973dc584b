import type { Host } from '@runbooks/contracts';
import { shellInGroup, stopGroup } from '../child-processes';
import {
  CommandHostDriver,
  OutputCollector,
  type CommandHostDriverOptions,
  type CommandResult,
  type CommandSession,
  type CommandTransport,
} from './command-driver';
import { HostFailureType, retryable } from './failures';

/**
 * Runs each command as `bash -c` on the worker itself, in its own process group that is killed
 * whole on cancel, on timeout, and when the worker dies (see shellInGroup).
 */
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
    const child = shellInGroup(script);
    const output = new OutputCollector();
    let timedOut = false;
    let cancelled = false;
    let cancelKill: (() => void) | undefined;
    const stop = () => void (cancelKill ??= stopGroup(child));
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
      cancelKill?.();
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
