import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { processIsAlive, shellInGroup, stopGroup } from './child-processes';

/** The PIDs a child printed, one per line, once it printed `count` of them. */
function pidsPrinted(child: { stdout: NodeJS.ReadableStream | null }, count: number): Promise<number[]> {
  return new Promise((resolve) => {
    let text = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      const pids = text
        .split('\n')
        .filter((line) => /^\d+$/.test(line))
        .map(Number);
      if (pids.length >= count) resolve(pids);
    });
  });
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 50));
}

describe('child process groups', () => {
  it('a cancelled command is stopped with every process it started', async () => {
    const child = shellInGroup('sleep 300 & echo $!; sleep 300 & echo $!; wait');
    const pids = await pidsPrinted(child, 2);
    const closed = new Promise((resolve) => child.once('close', resolve));

    stopGroup(child)();
    await closed;

    await until(() => pids.every((pid) => !processIsAlive(pid)));
    expect(pids.filter(processIsAlive)).toEqual([]);
  });

  it('a command outlives no worker killed with SIGKILL: the parent-death signal takes its whole group down', async () => {
    // A stand-in worker: a node process that starts a shell command through shellInGroup, then is SIGKILLed.
    const module = path.join(__dirname, '..', 'dist', 'child-processes.js');
    readFileSync(module); // built by `npm run build`, as before every test run
    const worker = spawn(
      process.execPath,
      [
        '-e',
        `require(${JSON.stringify(module)}).shellInGroup('sleep 300 & echo $!; sleep 300 & echo $!; wait').stdout.pipe(process.stdout); setInterval(() => {}, 1000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const pids = await pidsPrinted(worker, 2);
    expect(pids.filter(processIsAlive)).toEqual(pids);

    worker.kill('SIGKILL');

    await until(() => pids.every((pid) => !processIsAlive(pid)));
    expect(pids.filter(processIsAlive)).toEqual([]);
  });
});
