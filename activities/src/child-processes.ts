import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';

/**
 * Child processes that cannot outlive the worker. Each runs in its own process group (spawned
 * detached, so a kill reaches the whole tree it starts), is killed when its activity is cancelled
 * or times out, and is killed by the kernel when the worker itself dies, even by SIGKILL: it is
 * started under `setpriv --pdeathsig`, so the parent's death signals it (prctl PR_SET_PDEATHSIG).
 * A restic left running by a dead worker would keep writing into staging, then die holding its
 * repository lock.
 */

/** Time a process group gets to end after SIGTERM (restic removes its lock on SIGTERM) before SIGKILL. */
export const KILL_GRACE_MS = 10_000;

export type GroupChild = ChildProcessByStdio<null, Readable, Readable>;

/** Process groups started and not yet ended; the worker's exit hook kills what remains. */
const liveGroups = new Set<number>();

export interface GroupSpawnOptions {
  env?: NodeJS.ProcessEnv;
  /**
   * The signal the child gets when the worker dies: KILL for a single program (restic); for a
   * shell, a signal it traps to kill its own group (see shellInGroup), since the parent-death
   * signal reaches only the process it is set on, not the commands the shell starts.
   */
  parentDeathSignal?: 'KILL' | 'HUP';
}

/** Spawns `command` in its own process group, tied to the worker's life; stdout and stderr are piped. */
export function spawnInGroup(command: string, args: readonly string[], options: GroupSpawnOptions = {}): GroupChild {
  const setpriv = setprivBinary();
  const [file, argv] = setpriv
    ? [setpriv, ['--pdeathsig', options.parentDeathSignal ?? 'KILL', '--', command, ...args]]
    : [command, [...args]];
  const child = spawn(file, argv, { env: options.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const group = child.pid;
  if (group !== undefined) {
    liveGroups.add(group);
    child.once('exit', () => liveGroups.delete(group));
  }
  return child;
}

/**
 * A bash script in its own process group that dies whole with the worker: the outer shell gets
 * SIGHUP when the worker dies and kills its group; the script runs in the background so the trap
 * fires at once instead of after the script. Exits with the script's exit code.
 */
export function shellInGroup(script: string, env?: NodeJS.ProcessEnv): GroupChild {
  return spawnInGroup('bash', ['-c', 'trap "kill -KILL 0" HUP; bash -c "$1" & wait $!', 'runbooks-command', script], {
    env,
    parentDeathSignal: 'HUP',
  });
}

/** Sends `signal` to the child's whole process group; false when the group has ended. */
export function signalGroup(child: GroupChild | number, signal: NodeJS.Signals): boolean {
  const group = typeof child === 'number' ? child : child.pid;
  if (group === undefined) return false;
  try {
    process.kill(-group, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * Stops a child's process group: SIGTERM, then SIGKILL after the grace. Returns a function that
 * cancels the pending SIGKILL (call it once the child has exited).
 */
export function stopGroup(child: GroupChild, graceMs = KILL_GRACE_MS): () => void {
  signalGroup(child, 'SIGTERM');
  const timer = setTimeout(() => signalGroup(child, 'SIGKILL'), graceMs);
  timer.unref();
  return () => clearTimeout(timer);
}

/**
 * Kills every process group this process started that is still running. Synchronous, so it can
 * run in an 'exit' hook: the worker calls it when it exits (SIGTERM and SIGINT end in exit too).
 */
export function killAllProcessGroups(): number {
  let killed = 0;
  for (const group of liveGroups) if (signalGroup(group, 'SIGKILL')) killed++;
  liveGroups.clear();
  return killed;
}

/** Whether a process of that id runs on this machine (EPERM: it runs, as another user; a zombie does not run). */
export function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true; // no /proc (not Linux): kill(0) said it exists
  }
}

let setpriv: string | null | undefined;
/** util-linux `setpriv`, if installed (Linux): the parent-death signal needs it. */
function setprivBinary(): string | null {
  if (setpriv !== undefined) return setpriv;
  setpriv = null;
  if (process.platform !== 'linux') return setpriv;
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(path.delimiter)) {
    const candidate = path.join(dir, 'setpriv');
    try {
      accessSync(candidate, constants.X_OK);
      setpriv = candidate;
      break;
    } catch {
      // not in this PATH entry
    }
  }
  return setpriv;
}
