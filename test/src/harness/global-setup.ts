import { bundleRunbookWorkflows } from '../../../apps/worker/src/bundle';
import { startDevServer } from './dev-server';
import { startTestPostgres } from './postgres';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * One Temporal dev server and one workflow bundle for the whole jest run; test files connect to
 * the server through TEMPORAL_ADDRESS and load the bundle from RUNBOOKS_WORKFLOW_BUNDLE.
 * One throwaway PostgreSQL cluster too, so the store's tests run on both backends: tests create
 * their own database through RUNBOOKS_TEST_PG_ADMIN_URL (see freshPostgresDatabase).
 */
export default async function globalSetup(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runbooks-test-'));
  // The server's database in a file (see DevServerOptions.dbFile), on tmpfs where there is one: as fast as memory.
  const dbDir = fs.mkdtempSync(path.join(fs.existsSync('/dev/shm') ? '/dev/shm' : dir, 'runbooks-temporal-'));
  process.env.RUNBOOKS_TEST_TEMPORAL_DB_DIR = dbDir;
  const [server, bundle, postgres] = await Promise.all([
    startDevServer({ dbFile: path.join(dbDir, 'temporal.db') }),
    bundleRunbookWorkflows(),
    startTestPostgres(),
  ]);
  const bundlePath = path.join(dir, 'workflow-bundle.js');
  fs.writeFileSync(bundlePath, bundle.code);
  process.env.TEMPORAL_ADDRESS = server.address;
  process.env.RUNBOOKS_WORKFLOW_BUNDLE = bundlePath;
  process.env.RUNBOOKS_TEST_TMP = dir;
  process.env.RUNBOOKS_TEST_PG_ADMIN_URL = postgres.adminUrl;
  (globalThis as Record<string, unknown>).__RUNBOOKS_DEV_SERVER__ = server;
  (globalThis as Record<string, unknown>).__RUNBOOKS_POSTGRES__ = postgres;
}
