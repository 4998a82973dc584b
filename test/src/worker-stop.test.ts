import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { eventually } from './harness/worker';
import { killHard, spawnWorkerProcess } from './harness/worker-process';

let root: string;
const workers: ChildProcess[] = [];

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'worker-stop-'));
});
afterEach(async () => {
  // One that did not exit would keep the test run waiting on its output.
  await Promise.all(workers.splice(0).map(killHard));
});
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

/**
 * The SDK's runtime stops a process's workers on signals of its own (SIGQUIT, SIGUSR2, and a
 * SIGTERM that arrives while the worker starts, before our handler is in place): the process must
 * then close the rest (connection, store, metrics server) and exit, not linger until a SIGKILL.
 */
describe('the worker process', () => {
  it.each(['SIGUSR2', 'SIGQUIT'] as const)(
    'exits by itself, with status 0, when the SDK runtime stops its workers on %s',
    async (signal) => {
      const output: string[] = [];
      const child = spawnWorkerProcess(
        { RUNBOOKS_TASK_QUEUE: `stop-${randomUUID()}`, RUNBOOKS_DATA_DIR: path.join(root, signal) },
        { stdout: 'pipe' },
      );
      workers.push(child);
      child.stdout?.setEncoding('utf8').on('data', (chunk: string) => output.push(chunk));
      await eventually(async () => (output.join('').includes('polling task queues') ? true : undefined), 60_000, 'the worker to poll');

      child.kill(signal);
      const exit = await eventually(
        async () => (child.exitCode !== null || child.signalCode !== null ? { code: child.exitCode, signal: child.signalCode } : undefined),
        30_000,
        'the worker process to exit by itself',
      );
      expect(exit).toEqual({ code: 0, signal: null });
      expect(output.join('')).toContain('"state":"STOPPED"');
    },
  );
});
