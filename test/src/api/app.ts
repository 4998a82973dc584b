import type { INestApplication } from '@nestjs/common';
import { createApiApp, type ApiConfigInput } from '@runbooks/api';
import { RestoreTargetPolicyStore } from '@runbooks/activities';
import type { RestoreTargetPolicy } from '@runbooks/contracts';
import { Store } from '@runbooks/store';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { App } from 'supertest/types';
import { TEST_CODEC_KEY_REF, TestSecrets } from '../../../activities/src/test-support/secrets';

export const repoRoot = path.resolve(__dirname, '..', '..', '..');
export const demoPrincipalsFile = path.join(repoRoot, 'config', 'principals.demo.json');

/** Bearer tokens of config/principals.demo.json. */
export const tokens = {
  tess: 'demo-technician-token',
  alex: 'demo-approver-token',
  blair: 'demo-approver2-token',
  sam: 'demo-scheduler-token',
  ada: 'demo-admin-token',
  fran: 'demo-tier1-token',
  gus: 'demo-tier2-token',
  hana: 'demo-tier3-token',
} as const;

export const auth = (who: keyof typeof tokens) => ({ Authorization: `Bearer ${tokens[who]}` });

export interface TestApi {
  app: INestApplication;
  server: App;
  taskQueue: string;
  /** The API's store, for a worker that must see what the API writes (e.g. the restore target policy). */
  store: Store;
}

/**
 * The repository `restoreInput` names, and the secret defined as its password for data-restore runs of
 * technicians and schedulers; `backup/admin-only` opens it for admins only, `ssh/patching-key` is for patching.
 */
export const TEST_REPOSITORY = '/srv/backups/restic';
export const TEST_PASSWORD_REF = 'secret:backup/test-projects';

let defaultSecrets: TestSecrets | undefined;
/** The secrets file of every test API that is given none: one secret, `backup/test-projects`. */
export function testApiSecrets(): TestSecrets {
  defaultSecrets ??= new TestSecrets([
    {
      name: 'backup/test-projects',
      source: { backend: 'env', variable: 'RUNBOOKS_SECRET_TEST_PROJECTS' },
      runbooks: ['data-restore'],
      roles: ['technician', 'scheduler'],
      repositories: [TEST_REPOSITORY],
    },
    {
      name: 'backup/admin-only',
      source: { backend: 'env', variable: 'RUNBOOKS_SECRET_TEST_ADMIN_ONLY' },
      runbooks: ['data-restore'],
      roles: ['admin'],
      repositories: [TEST_REPOSITORY],
    },
    {
      name: 'ssh/patching-key',
      source: { backend: 'file', file: 'ssh/patching-key' },
      runbooks: ['security-patching'],
      roles: ['technician'],
    },
  ]);
  return defaultSecrets;
}
afterAll(() => defaultSecrets?.remove());

/** What a test API lets restores write into unless told otherwise: `restoreInput`'s repository into /srv. */
export const TEST_RESTORE_TARGETS: RestoreTargetPolicy = { rules: [{ repository: TEST_REPOSITORY, roots: ['/srv'] }] };

/**
 * The API against the run's dev server, on a task queue of its own, with the demo principals;
 * its store's restore target policy is `restoreTargets` (default TEST_RESTORE_TARGETS) unless it has one.
 */
export async function startTestApi(
  overrides: ApiConfigInput = {},
  { restoreTargets = TEST_RESTORE_TARGETS }: { restoreTargets?: RestoreTargetPolicy } = {},
): Promise<TestApi> {
  const taskQueue = overrides.taskQueue ?? `api-test-${randomUUID()}`;
  const app = await createApiApp({
    temporalAddress: process.env.TEMPORAL_ADDRESS,
    // A store of its own per API (tests never share one); give `store` to share a lab fleet's.
    store: { kind: 'sqlite', file: path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'runbooks-api-')), 'runbooks.sqlite') },
    principalsFile: demoPrincipalsFile,
    logLevels: ['fatal'],
    secretsFile: overrides.secretsFile ?? testApiSecrets().config.catalogFile,
    codecKeys: [TEST_CODEC_KEY_REF],
    ...overrides,
    taskQueue,
  });
  const policy = app.get(RestoreTargetPolicyStore);
  if ((await policy.read()).updatedAt === null) await policy.replace(restoreTargets);
  return { app, server: app.getHttpServer() as App, taskQueue, store: app.get(Store) };
}

/** A valid data-restore input: every required field, secrets as references. */
export function restoreInput(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    repository: { url: TEST_REPOSITORY, passwordRef: TEST_PASSWORD_REF },
    path: '/srv/projects',
    target: '/srv/projects',
    affectedUsers: ['erin@example.com'],
    ticket: 'INC-1234',
    ...overrides,
  };
}
