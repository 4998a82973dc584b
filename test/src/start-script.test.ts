import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './harness/dev-server';
import { eventually } from './harness/worker';

const repoRoot = path.resolve(__dirname, '..', '..');

interface Tracked {
  pid: number;
  /** Its start time (clock ticks since boot): a pid the kernel hands out again later is another process. */
  startedAt: string;
  command: string;
}

/** A process's parent and start time, from /proc; undefined once it has ended. */
function statOf(pid: number): { ppid: number; startedAt: string } | undefined {
  try {
    // Fields after the command name (which may hold spaces): state ppid pgrp session tty_nr tpgid flags
    // minflt cminflt majflt cmajflt utime stime cutime cstime priority nice num_threads itrealvalue starttime
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(fields[1]), startedAt: fields[19] };
  } catch {
    return undefined; // it ended while we looked
  }
}

function commandOf(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return ''; // it ended while we looked
  }
}

/** Every process below `root` (its children, theirs, ...), as they are now. */
function descendants(root: number): Tracked[] {
  const byParent = new Map<number, { pid: number; startedAt: string }[]>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = statOf(Number(entry));
    if (!stat) continue;
    const siblings = byParent.get(stat.ppid) ?? [];
    siblings.push({ pid: Number(entry), startedAt: stat.startedAt });
    byParent.set(stat.ppid, siblings);
  }
  const found: Tracked[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const child of byParent.get(queue.shift() as number) ?? []) {
      found.push({ ...child, command: commandOf(child.pid) });
      queue.push(child.pid);
    }
  }
  return found;
}

function alive(tracked: Tracked): boolean {
  return statOf(tracked.pid)?.startedAt === tracked.startedAt;
}

/**
 * `npm start` (scripts/start.sh) on a fresh data folder and free ports, started the way a
 * supervisor or a backgrounded shell starts it (SIGINT ignored on entry), as `npm start`, or as
 * `npm start` in a terminal (`script` gives it one), then signalled by pid, or by a Ctrl-C typed in
 * that terminal (the terminal signals its foreground process group): the dev server, the worker,
 * the API and the demos it started must all be gone, and the worker and the API must have stopped
 * while Temporal still ran (it is stopped last).
 */
describe('scripts/start.sh stops everything it started', () => {
  const backgrounded = ['bash', '-c', 'trap "" INT; exec bash scripts/start.sh'];
  it.each([
    { how: 'SIGINT to its own process', command: backgrounded, stop: 'SIGINT' },
    { how: 'SIGTERM to its own process', command: backgrounded, stop: 'SIGTERM' },
    { how: 'SIGTERM to npm, as npm start', command: ['npm', 'start'], stop: 'SIGTERM' },
    {
      how: 'Ctrl-C in the terminal of npm start',
      command: ['script', '--quiet', '--return', '--flush', '--command', 'npm start', '/dev/null'],
      stop: 'Ctrl-C',
    },
  ] as const)(
    'on $how',
    async ({ command, stop }) => {
      const data = fs.mkdtempSync(path.join(os.tmpdir(), 'runbooks-start-'));
      const [temporalPort, uiPort, apiPort] = [await freePort(), await freePort(), await freePort()];
      const logFile = path.join(data, 'start.log');
      const log = fs.openSync(logFile, 'w');
      const script = spawn(command[0], command.slice(1), {
        cwd: repoRoot,
        detached: true, // a session of its own, as a terminal's or a supervisor's would be
        // In a terminal, what is typed goes to `script`, which writes it to the terminal npm start runs in.
        stdio: [stop === 'Ctrl-C' ? 'pipe' : 'ignore', log, log],
        env: {
          ...process.env,
          RUNBOOKS_DATA_DIR: data,
          TEMPORAL_PORT: String(temporalPort),
          TEMPORAL_UI_PORT: String(uiPort),
          PORT: String(apiPort),
          RUNBOOKS_START_SIGNALS_RESET: '',
        },
      });
      fs.closeSync(log);
      const exited = new Promise<void>((resolve) => script.on('exit', () => resolve()));
      let started: Tracked[] = [];
      try {
        await eventually(
          async () => ((await fetch(`http://127.0.0.1:${apiPort}/readyz`).catch(() => undefined))?.ok ? true : undefined),
          180_000,
          'the API of npm start to be ready',
        );
        await eventually(
          async () => (fs.readFileSync(logFile, 'utf8').includes('polling task queues') ? true : undefined),
          60_000,
          'the worker to poll',
        );
        started = descendants(script.pid as number);
        const named = (part: string) => started.filter((p) => p.command.includes(part));
        const [temporal, worker, api] = [named('server start-dev'), named('apps/worker/dist/main.js'), named('apps/api/dist/main.js')];
        expect([temporal.length, worker.length, api.length]).toEqual([1, 1, 1]);

        if (stop === 'Ctrl-C') script.stdin?.write('\x03');
        else process.kill(script.pid as number, stop);
        // Each of the worker and the API: was Temporal still running when it was first seen gone?
        const temporalWhenGone = new Map<Tracked, boolean>();
        const deadline = Date.now() + 60_000;
        // Checked at once as well: processes all gone before the first look stopped at once too.
        for (;;) {
          for (const p of [...worker, ...api]) if (!temporalWhenGone.has(p) && !alive(p)) temporalWhenGone.set(p, alive(temporal[0]));
          if (!started.some(alive) || Date.now() > deadline) break;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        expect(started.filter(alive).map((p) => p.command)).toEqual([]);
        await exited;
        expect([...temporalWhenGone.values()]).toEqual([true, true]);
        if (stop !== 'Ctrl-C') {
          // JSON lines (not a terminal): the worker stopped, and never lost its connection while it did.
          const workerLines = fs
            .readFileSync(logFile, 'utf8')
            .split('\n')
            .filter((line) => line.includes('"service":"worker"'));
          expect(workerLines.filter((line) => /"state":"STOPPED"/.test(line)).length).toBeGreaterThan(0);
          expect(workerLines.filter((line) => /tcp connect error|TransportError|connection refused/.test(line))).toEqual([]);
        }
      } finally {
        for (const p of started.filter(alive)) process.kill(p.pid, 'SIGKILL');
        if (script.exitCode === null && script.signalCode === null) script.kill('SIGKILL');
        fs.rmSync(data, { recursive: true, force: true });
      }
    },
    300_000,
  );
});
