import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTE_REGISTRATIONS } from '@runbooks/contracts';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';

const repoRoot = path.resolve(__dirname, '..', '..', '..');

/** Low on purpose: see startDevServer. */
export const SUGGEST_CONTINUE_AS_NEW_AFTER = 150;

export interface DevServerOptions {
  /**
   * `limit.historyCount.suggestContinueAsNew`: events after which Temporal suggests continue-as-new.
   * Default SUGGEST_CONTINUE_AS_NEW_AFTER (tests); 'server-default' leaves Temporal's own (~4,096; benches).
   */
  suggestContinueAsNewAfter?: number | 'server-default';
  /** More `temporal server start-dev` arguments. */
  extraArgs?: string[];
  /**
   * Keep the server's SQLite database in this file rather than in memory. An in-memory database
   * lives in one connection: when the server's driver discards it (after a transaction whose
   * context was cancelled), every table is gone and every call fails with "no such table"
   * (temporalio/temporal#3784, #8017); a file survives that. The test run puts it on tmpfs.
   */
  dbFile?: string;
}

export interface DevServer {
  address: string;
  /** The server's Prometheus metrics (`http://<this>/metrics`): the benches count its requests by operation. */
  metricsAddress: string;
  process: ChildProcess;
}

/** A free TCP port on loopback (the kernel picks it; we release it for the server to take). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts `temporal server start-dev` headless on loopback, in memory unless told a file, with our search attributes,
 * and waits until it answers (our own poll: the SDK's 5 s is too short on a 2-core CI machine).
 */
export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const suggestAfter = options.suggestContinueAsNewAfter ?? SUGGEST_CONTINUE_AS_NEW_AFTER;
  const bin = execFileSync('bash', [path.join(repoRoot, 'scripts', 'temporal.sh'), '--path'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
  const [port, httpPort, metricsPort] = [await freePort(), await freePort(), await freePort()];
  const args = [
    'server',
    'start-dev',
    '--headless',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--http-port',
    String(httpPort),
    '--metrics-port',
    String(metricsPort),
    '--log-level',
    'error',
    // Tests: fleet runs continue as new after this many events instead of ~4,096, so they exercise it.
    ...(suggestAfter === 'server-default' ? [] : ['--dynamic-config-value', `limit.historyCount.suggestContinueAsNew=${suggestAfter}`]),
    ...SEARCH_ATTRIBUTE_REGISTRATIONS.flatMap((sa) => ['--search-attribute', sa]),
    ...(options.dbFile ? ['--db-filename', options.dbFile] : []),
    ...(options.extraArgs ?? []),
  ];
  const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'inherit'], detached: false });
  const address = `127.0.0.1:${port}`;
  await waitUntilReady(address, child, 90_000);
  return { address, metricsAddress: `127.0.0.1:${metricsPort}`, process: child };
}

/** Stops a dev server: SIGTERM, then SIGKILL if it has not exited within 10 s. */
export async function stopDevServer(server: DevServer | undefined): Promise<void> {
  if (!server || server.process.exitCode !== null || server.process.signalCode !== null) return;
  const exited = new Promise((resolve) => server.process.once('exit', resolve));
  server.process.kill('SIGTERM');
  // Cleared once the server has exited: a pending timer kept jest's main process up to 10 s after the run.
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 10_000)))]);
  clearTimeout(timer);
  if (server.process.exitCode === null && server.process.signalCode === null) server.process.kill('SIGKILL');
}

async function waitUntilReady(address: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`temporal dev server exited with code ${child.exitCode}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 2000 });
      try {
        await connection.workflowService.getSystemInfo({});
        // Search attributes are registered during start-up; list them to be sure they are in.
        const attrs = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
        if (Object.keys(attrs.customAttributes ?? {}).includes('RunbookName')) return;
        lastError = new Error('custom search attributes not registered yet');
      } finally {
        await connection.close();
      }
    } catch (error) {
      lastError = error;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  child.kill('SIGKILL');
  throw new Error(`temporal dev server at ${address} not ready in ${timeoutMs} ms: ${String(lastError)}`);
}
