import type { DevServer } from './dev-server';
import fs from 'node:fs';

export default async function globalTeardown(): Promise<void> {
  const server = (globalThis as Record<string, unknown>).__RUNBOOKS_DEV_SERVER__ as DevServer | undefined;
  if (server && server.process.exitCode === null) {
    const exited = new Promise((resolve) => server.process.once('exit', resolve));
    server.process.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    if (server.process.exitCode === null) server.process.kill('SIGKILL');
  }
  const tmp = process.env.RUNBOOKS_TEST_TMP;
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
}
