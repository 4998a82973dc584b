import { RestoreTargetPolicyStore } from '@runbooks/activities';
import { Store } from '@runbooks/store';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { TEST_CODEC_KEY_REF, TestSecrets } from '../../../activities/src/test-support/secrets';
import { temporalAddress } from './worker';

const workerMain = path.resolve(__dirname, '..', '..', '..', 'apps', 'worker', 'dist', 'main.js');

let secrets: TestSecrets | undefined;
function codecSecrets(): TestSecrets {
  secrets ??= new TestSecrets();
  return secrets;
}
afterAll(() => secrets?.remove());

/**
 * The real worker program (apps/worker, built) in its own process, so a test can kill it the way
 * a crash or an OOM would: SIGKILL, nothing cleaned up. Its log lines (stdout) are dropped unless
 * `stdout: 'pipe'` asks for them.
 */
export function spawnWorkerProcess(env: Record<string, string>, { stdout = 'ignore' }: { stdout?: 'ignore' | 'pipe' } = {}): ChildProcess {
  return spawn(process.execPath, [workerMain], {
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: temporalAddress(),
      RUNBOOKS_WORKFLOW_BUNDLE: process.env.RUNBOOKS_WORKFLOW_BUNDLE ?? '',
      RUNBOOKS_SHUTDOWN_GRACE_MS: '2000',
      // The tests' codec key, an env-backed secret of a secrets file that defines it.
      RUNBOOKS_CODEC_KEYS: TEST_CODEC_KEY_REF,
      RUNBOOKS_SECRETS_FILE: codecSecrets().config.catalogFile,
      RUNBOOKS_SECRETS_DIR: codecSecrets().config.secretsDir,
      ...env,
    },
    stdio: ['ignore', stdout, 'inherit'],
  });
}

export async function killHard(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

/**
 * Lets worker processes whose RUNBOOKS_DATA_DIR is `dataDir` (their SQLite store's default place)
 * restore from `repository` into `root` and below: the policy they check right before each swap.
 */
export async function allowRestoresIn(dataDir: string, repository: string, root: string): Promise<void> {
  await fs.mkdir(dataDir, { recursive: true });
  const store = Store.open({ kind: 'sqlite', file: path.join(dataDir, 'runbooks.sqlite') });
  try {
    await new RestoreTargetPolicyStore(store, { dirs: [], except: [] }).replace({ rules: [{ repository, roots: [root] }] });
  } finally {
    await store.close();
  }
}
