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
 * supervisor or a backgrounded shell starts it (SIGINT ignored on entry), then signalled by pid:
 * the dev server, the worker and the API it started must all be gone.
 */
describe('scripts/start.sh stops everything it started', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)(
    'on %s to its own process',
    async (signal) => {
      const data = fs.mkdtempSync(path.join(os.tmpdir(), 'runbooks-start-'));
      const [temporalPort, uiPort, apiPort] = [await freePort(), await freePort(), await freePort()];
      const script = spawn('bash', ['-c', 'trap "" INT; exec bash scripts/start.sh'], {
        cwd: repoRoot,
        detached: true, // its own process group: every process it starts is in it
        stdio: 'ignore',
        env: {
          ...process.env,
          RUNBOOKS_DATA_DIR: data,
          TEMPORAL_PORT: String(temporalPort),
          TEMPORAL_UI_PORT: String(uiPort),
          PORT: String(apiPort),
          RUNBOOKS_START_SIGNALS_RESET: '',
        },
      });
      const exited = new Promise<void>((resolve) => script.on('exit', () => resolve()));
      const pgid = script.pid as number;
      try {
        await eventually(
          async () => ((await fetch(`http://127.0.0.1:${apiPort}/readyz`).catch(() => undefined))?.ok ? true : undefined),
          180_000,
          'the API of npm start to be ready',
        );
        expect(groupMembers(pgid).length).toBeGreaterThanOrEqual(4); // the script, temporal, the worker, the API

        process.kill(pgid, signal);
        await exited;
        await eventually(async () => (groupMembers(pgid).length === 0 ? true : undefined), 40_000, 'every child of npm start to exit');
      } finally {
        for (const pid of groupMembers(pgid)) process.kill(pid, 'SIGKILL');
        fs.rmSync(data, { recursive: true, force: true });
      }
    },
    300_000,
  );
});
