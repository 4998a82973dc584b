import type { INestApplication } from '@nestjs/common';
import { createApiApp, type ApiConfigInput } from '@runbooks/api';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { App } from 'supertest/types';

export const repoRoot = path.resolve(__dirname, '..', '..', '..');
export const demoPrincipalsFile = path.join(repoRoot, 'config', 'principals.demo.json');

/** Bearer tokens of config/principals.demo.json. */
export const tokens = {
  tess: 'demo-technician-token',
  alex: 'demo-approver-token',
  blair: 'demo-approver2-token',
  sam: 'demo-scheduler-token',
  ada: 'demo-admin-token',
} as const;

export const auth = (who: keyof typeof tokens) => ({ Authorization: `Bearer ${tokens[who]}` });

export interface TestApi {
  app: INestApplication;
  server: App;
  taskQueue: string;
}

/** The API against the run's dev server, on a task queue of its own, with the demo principals. */
export async function startTestApi(overrides: ApiConfigInput = {}): Promise<TestApi> {
  const taskQueue = overrides.taskQueue ?? `api-test-${randomUUID()}`;
  const app = await createApiApp({
    temporalAddress: process.env.TEMPORAL_ADDRESS,
    // A store of its own per API (tests never share one); give `store` to share a lab fleet's.
    store: { kind: 'sqlite', file: path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'runbooks-api-')), 'runbooks.sqlite') },
    principalsFile: demoPrincipalsFile,
    logLevels: ['fatal'],
    ...overrides,
    taskQueue,
  });
  return { app, server: app.getHttpServer() as App, taskQueue };
}

/** A valid data-restore input: every required field, secrets as references. */
export function restoreInput(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    repository: { url: '/srv/backups/restic', passwordRef: 'env:RESTIC_PASSWORD' },
    path: '/srv/projects',
    target: '/srv/projects',
    affectedUsers: ['erin@example.com'],
    ticket: 'INC-1234',
    ...overrides,
  };
}
