import { bundleRunbookWorkflows } from '../../../apps/worker/src/bundle';
import { startDevServer } from './dev-server';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * One Temporal dev server and one workflow bundle for the whole jest run; test files connect to
 * the server through TEMPORAL_ADDRESS and load the bundle from RUNBOOKS_WORKFLOW_BUNDLE.
 */
export default async function globalSetup(): Promise<void> {
  const [server, bundle] = await Promise.all([startDevServer(), bundleRunbookWorkflows()]);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runbooks-test-'));
  const bundlePath = path.join(dir, 'workflow-bundle.js');
  fs.writeFileSync(bundlePath, bundle.code);
  process.env.TEMPORAL_ADDRESS = server.address;
  process.env.RUNBOOKS_WORKFLOW_BUNDLE = bundlePath;
  process.env.RUNBOOKS_TEST_TMP = dir;
  (globalThis as Record<string, unknown>).__RUNBOOKS_DEV_SERVER__ = server;
}
