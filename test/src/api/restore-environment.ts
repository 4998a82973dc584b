import type { Client, Connection } from '@temporalio/client';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { TestSecrets } from '../../../activities/src/test-support/secrets';
import { ResticFixture, writeTree } from '../../../apps/worker/src/demo/restic-fixture';
import { eventually, startTestWorker, testClient, type TestWorker, type TestWorkerOptions } from '../harness/worker';
import { auth, startTestApi, tokens, type TestApi } from './app';

const PASSWORD = 'api-test-restic-password-5150';
const PASSWORD_ENV = 'RUNBOOKS_SECRET_API_TEST_RESTIC_PASSWORD';
const PASSWORD_REF = 'secret:backup/api-test';

/** The secret holding the repository's password (the env var above). */
export const RESTORE_SECRET = 'backup/api-test';

/**
 * The API and a real worker on one task queue, with a real restic repository holding one snapshot
 * of /…/srv/projects, so a data-restore run goes through its steps up to the approval gate and beyond.
 */
export interface RestoreEnvironment {
  api: TestApi;
  worker: TestWorker;
  temporal: { client: Client; connection: Connection };
  /** Where the policy lets this environment's restores write (targets of `input()` are below). */
  targetsRoot: string;
  /** The restic repository `input()` restores from. */
  repository: string;
  /** The secret definitions API and worker read (the restic password is `backup/api-test`). */
  secrets: TestSecrets;
  /** The path inside the repository's snapshot `input()` restores. */
  source: string;
  /** A valid launch input restoring into a fresh target folder. */
  input(): Promise<Record<string, unknown>>;
  /** Launches as `who` and waits until the run waits for approval; returns the run id. */
  launchToApproval(who: keyof typeof tokens): Promise<string>;
  stop(): Promise<void>;
}

/** `worker`: options of the test worker (its task queue is the API's), e.g. a notifier of the test's own. */
export async function startRestoreEnvironment(
  options: {
    worker?: Omit<TestWorkerOptions, 'taskQueue'>;
    /** Sign caller assertions with these keys (`kid:base64,...`) in the API and verify them on the worker. */
    assertionKeys?: string;
  } = {},
): Promise<RestoreEnvironment> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'api-restore-'));
  process.env[PASSWORD_ENV] = PASSWORD;
  const fixture = await ResticFixture.init(path.join(root, 'repo'), PASSWORD);
  const source = path.join(root, 'srv', 'projects');
  await writeTree(source, { 'report.txt': 'quarterly report\n', 'data/ledger.csv': 'id,amount\n1,100\n' });
  await fixture.backup(source, new Date('2026-11-01T10:00:00Z'));

  const secrets = new TestSecrets([
    {
      name: RESTORE_SECRET,
      source: { backend: 'env', variable: PASSWORD_ENV },
      runbooks: ['data-restore'],
      roles: ['technician', 'scheduler'],
      repositories: [fixture.repository],
    },
  ]);
  // Restores from the fixture's repository may write under <root>/targets; the worker shares the API's store, so it sees the same policy.
  const api = await startTestApi(
    { secretsFile: secrets.config.catalogFile, ...(options.assertionKeys ? { assertionKeys: options.assertionKeys } : {}) },
    { restoreTargets: { rules: [{ repository: fixture.repository, roots: [path.join(root, 'targets')] }] } },
  );
  const [worker, temporal] = await Promise.all([
    startTestWorker({
      ...options.worker,
      taskQueue: api.taskQueue,
      secrets: secrets.config,
      store: api.store,
      ...(options.assertionKeys ? { assertions: { keys: options.assertionKeys, maxAgeMs: 60_000 } } : {}),
    }),
    testClient(),
  ]);
  let targets = 0;

  const env: RestoreEnvironment = {
    targetsRoot: path.join(root, 'targets'),
    repository: fixture.repository,
    secrets,
    source,
    api,
    worker,
    temporal,
    async input() {
      const target = path.join(root, 'targets', String(++targets), 'projects');
      await writeTree(target, { 'report.txt': 'DAMAGED\n' });
      return {
        repository: { url: fixture.repository, passwordRef: PASSWORD_REF },
        path: source,
        target,
        affectedUsers: ['jane@example.test'],
        ticket: 'INC-2048',
        approval: { timeoutSeconds: 600 },
      };
    },
    async launchToApproval(who) {
      const res = await request(api.server)
        .post('/v1/runs')
        .set(auth(who))
        .send({ runbook: 'data-restore', input: await env.input() })
        .expect(201);
      const runId: string = res.body.runId;
      await eventually(
        async () => {
          const state = await request(api.server).get(`/v1/runs/${runId}`).set(auth(who));
          return state.status === 200 && state.body.status === 'awaiting_approval' ? true : undefined;
        },
        60_000,
        `${runId} to wait for approval`,
      );
      return runId;
    },
    async stop() {
      await worker.stop(); // before the API closes the store they share
      await api.app.close();
      await temporal.connection.close();
      await fs.rm(root, { recursive: true, force: true });
      secrets.remove();
    },
  };
  return env;
}
