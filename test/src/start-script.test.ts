import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './harness/dev-server';
import { eventually } from './harness/worker';

const repoRoot = path.resolve(__dirname, '..', '..');

/** Every process of a process group (Linux /proc). */
function groupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Fields after the command name (which may hold spaces): state ppid pgrp ...
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pgrp) === pgid) members.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return members;
}

/**
 * `npm start` (scripts/start.sh) on a fresh data folder and free ports, started the way a
 * supervisor or a backgrounded shell starts it (SIGINT ignored on entry), or as `npm start`, then
 * signalled by pid: the dev server, the worker and the API it started must all be gone, and the
 * worker must have stopped while Temporal still answered (it is stopped first).
 */
describe('scripts/start.sh stops everything it started', () => {
  it.each([
    { signal: 'SIGINT', to: 'its own process', command: ['bash', '-c', 'trap "" INT; exec bash scripts/start.sh'] },
    { signal: 'SIGTERM', to: 'its own process', command: ['bash', '-c', 'trap "" INT; exec bash scripts/start.sh'] },
    { signal: 'SIGTERM', to: 'npm, as npm start', command: ['npm', 'start'] },
  ] as const)(
    'on $signal to $to',
    async ({ signal, command }) => {
      const data = fs.mkdtempSync(path.join(os.tmpdir(), 'runbooks-start-'));
      const [temporalPort, uiPort, apiPort] = [await freePort(), await freePort(), await freePort()];
      const logFile = path.join(data, 'start.log');
      const log = fs.openSync(logFile, 'w');
      const script = spawn(command[0], command.slice(1), {
        cwd: repoRoot,
        detached: true, // its own process group: every process it starts is in it
        stdio: ['ignore', log, log],
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
      const pgid = script.pid as number;
      try {
        await eventually(
          async () => ((await fetch(`http://127.0.0.1:${apiPort}/readyz`).catch(() => undefined))?.ok ? true : undefined),
          180_000,
          'the API of npm start to be ready',
        );
        // The script (and npm), temporal, the worker, the API; and the worker polls.
        expect(groupMembers(pgid).length).toBeGreaterThanOrEqual(4);
        await eventually(
          async () => (fs.readFileSync(logFile, 'utf8').includes('polling task queues') ? true : undefined),
          60_000,
          'the worker to poll',
        );

        process.kill(pgid, signal);
        await exited;
        await eventually(async () => (groupMembers(pgid).length === 0 ? true : undefined), 40_000, 'every child of npm start to exit');
        const workerLines = fs
          .readFileSync(logFile, 'utf8')
          .split('\n')
          .filter((line) => line.includes('"service":"worker"'));
        expect(workerLines.filter((line) => /"state":"STOPPED"/.test(line)).length).toBeGreaterThan(0);
        expect(workerLines.filter((line) => /tcp connect error|TransportError|connection refused/.test(line))).toEqual([]);
      } finally {
        for (const pid of groupMembers(pgid)) process.kill(pid, 'SIGKILL');
        fs.rmSync(data, { recursive: true, force: true });
      }
    },
    300_000,
  );
});
