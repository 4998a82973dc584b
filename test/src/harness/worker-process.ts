import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { temporalAddress } from './worker';

const workerMain = path.resolve(__dirname, '..', '..', '..', 'apps', 'worker', 'dist', 'main.js');

/**
 * The real worker program (apps/worker, built) in its own process, so a test can kill it the way
 * a crash or an OOM would: SIGKILL, nothing cleaned up.
 */
export function spawnWorkerProcess(env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, [workerMain], {
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: temporalAddress(),
      RUNBOOKS_WORKFLOW_BUNDLE: process.env.RUNBOOKS_WORKFLOW_BUNDLE ?? '',
      RUNBOOKS_SHUTDOWN_GRACE_MS: '2000',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

export async function killHard(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}
