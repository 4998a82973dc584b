import { stopDevServer, type DevServer } from './dev-server';
import { stopTestPostgres, type TestPostgres } from './postgres';
import fs from 'node:fs';

export default async function globalTeardown(): Promise<void> {
  await stopDevServer((globalThis as Record<string, unknown>).__RUNBOOKS_DEV_SERVER__ as DevServer | undefined);
  stopTestPostgres((globalThis as Record<string, unknown>).__RUNBOOKS_POSTGRES__ as TestPostgres | undefined);
  for (const tmp of [process.env.RUNBOOKS_TEST_TMP, process.env.RUNBOOKS_TEST_TEMPORAL_DB_DIR]) {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  }
}
