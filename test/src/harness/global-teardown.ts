import { stopDevServer, type DevServer } from './dev-server';
import fs from 'node:fs';

export default async function globalTeardown(): Promise<void> {
  await stopDevServer((globalThis as Record<string, unknown>).__RUNBOOKS_DEV_SERVER__ as DevServer | undefined);
  const tmp = process.env.RUNBOOKS_TEST_TMP;
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
}
