/**
 * Our side of the benches that need the service: the real worker (createRunbookWorker with the
 * real activities over a small lab fleet and its store) and the real API (createApiApp, listening
 * on a free loopback port), both on the bench's own task queue.
 */
import type { INestApplication } from '@nestjs/common';
import { Worker, type NativeConnection } from '@temporalio/worker';
import { createApiApp } from '@runbooks/api';
import { LogNotifier, createActivities, type RunbookActivities } from '@runbooks/activities';
import { createRunbookWorker, type RunbookWorker } from '@runbooks/worker';
import { createLabFleet, type LabFleetFixture } from '@runbooks/worker/dist/demo/lab-fixture';
import type { StoreLocation } from '@runbooks/store';
import { fork } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { noopActivities } from './baseline/activities';
import { repoRoot } from './common';

/** Bearer tokens of config/principals.demo.json: a technician launches, an approver decides. */
export const DEMO_TOKENS = { technician: 'demo-technician-token', approver: 'demo-approver-token' } as const;

export const OLD_PACKAGES = { openssl: '3.0.11', 'linux-image': '6.1.0-25' };

/** A lab fleet (hosts on disk, inventory and ledger in its SQLite store) in `dir`. */
export function labFleet(dir: string, hosts: number): Promise<LabFleetFixture> {
  return createLabFleet({ dir, canary: Math.min(2, hosts - 1), production: hosts - Math.min(2, hosts - 1), packages: OLD_PACKAGES });
}

export interface OurWorker {
  worker: RunbookWorker;
  running: Promise<void>;
  lab: LabFleetFixture;
  stop(): Promise<void>;
}

/**
 * The real worker as apps/worker assembles it, over `lab` (or a 2-host lab fleet of its own), with
 * the benches' no-op activity registered beside the real ones.
 */
export async function startOurWorker(options: {
  native: NativeConnection;
  taskQueue: string;
  bundlePath: string;
  dir: string;
  lab?: LabFleetFixture;
  maxCachedWorkflows?: number;
  /** RUNBOOKS_ASSERTION_KEYS: the workflows verify the API's signed caller assertions, as a deployment does. */
  assertionKeys?: string;
}): Promise<OurWorker> {
  const lab = options.lab ?? (await labFleet(path.join(options.dir, 'lab'), 2));
  const activities = createActivities({
    store: lab.store,
    reportsDir: path.join(options.dir, 'reports'),
    notifier: new LogNotifier(path.join(options.dir, 'notifications.jsonl')),
    hosts: lab,
  });
  const worker = await createRunbookWorker({
    connection: options.native,
    namespace: 'default',
    taskQueue: options.taskQueue,
    workflowBundlePath: options.bundlePath,
    activities: { ...activities, ...noopActivities } as RunbookActivities,
    shutdownGraceMs: 5_000,
    maxCachedWorkflows: options.maxCachedWorkflows,
    // The worker's default maximum age (RUNBOOKS_ASSERTION_MAX_AGE_SECONDS, 300 s).
    assertions: options.assertionKeys ? { keys: options.assertionKeys, maxAgeMs: 300_000 } : undefined,
    // As apps/worker does: each run's status copy is written to the store, awaited before its workflow task completes.
    runStatusCopies: lab.store.runStatus,
  });
  const running = worker.run();
  return {
    worker,
    running,
    lab,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running.catch(() => undefined);
      if (!options.lab) await lab.store.close();
    },
  };
}

/** The bare side's worker: plain Temporal, the benches' baseline workflows and no-op activity, nothing of ours. */
export async function startBareWorker(options: {
  native: NativeConnection;
  taskQueue: string;
  bundlePath: string;
  maxCachedWorkflows?: number;
}): Promise<{ stop(): Promise<void> }> {
  const worker = await Worker.create({
    connection: options.native,
    namespace: 'default',
    taskQueue: options.taskQueue,
    workflowBundle: { codePath: options.bundlePath },
    activities: noopActivities,
    maxCachedWorkflows: options.maxCachedWorkflows,
    shutdownGraceTime: 5_000,
  });
  const running = worker.run();
  return {
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running.catch(() => undefined);
    },
  };
}

export interface BenchApi {
  url: string;
  app: INestApplication;
  close(): Promise<void>;
}

export interface BenchApiOptions {
  temporalAddress: string;
  taskQueue: string;
  dir: string;
  store: StoreLocation;
  /** RUNBOOKS_ASSERTION_KEYS: the API signs what it asserts about each caller of an Update, as a deployment does. */
  assertionKeys?: string;
}

/** The API on a free loopback port, its store `store` (share a lab fleet's to launch on its inventory), demo principals. */
export async function startBenchApi(options: BenchApiOptions): Promise<BenchApi> {
  const app = await createApiApp({
    temporalAddress: options.temporalAddress,
    taskQueue: options.taskQueue,
    store: options.store,
    dataDir: options.dir,
    principalsFile: path.join(repoRoot, 'config', 'principals.demo.json'),
    // Files that do not exist: nothing is imported, no secret is defined.
    inventoryFile: path.join(options.dir, 'inventory.json'),
    calendarFile: path.join(options.dir, 'calendar.json'),
    preApprovalsFile: path.join(options.dir, 'pre-approvals.json'),
    secretsFile: path.join(options.dir, 'secrets.json'),
    secretsDir: path.join(options.dir, 'secrets'),
    assertionKeys: options.assertionKeys,
    logLevels: ['fatal'],
  });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, app, close: () => app.close() };
}

/**
 * The same API in a child process (api-process.ts): the bench's HTTP load and the API no longer
 * share one event loop, which made each side wait for the other's work. Its store is the same file
 * (SQLite in WAL mode is shared across processes).
 */
export interface BenchApiProcess {
  url: string;
  /** The API process's CPU time so far (user + system, ms): a figure the machine's other load does not inflate much. */
  cpuMs(): Promise<number>;
  close(): Promise<void>;
}

export async function startBenchApiProcess(options: BenchApiOptions): Promise<BenchApiProcess> {
  return forkBenchServer('api-process.js', options, 'API');
}

/**
 * Forks a bench server (api-process.js, http-floor-process.js) and waits until it listens. The
 * child reads its options from the first message, answers `{ url }` (or `{ error }`), answers
 * `{ cpuMs }` to each `'cpu'` message and exits when the parent disconnects.
 */
export async function forkBenchServer(script: string, options: unknown, label: string): Promise<BenchApiProcess> {
  // BENCH_API_NODE_ARGS: more Node flags for the API process, e.g. "--cpu-prof --cpu-prof-dir=prof" to profile it.
  const execArgv = [...process.execArgv, ...(process.env.BENCH_API_NODE_ARGS ?? '').split(' ').filter(Boolean)];
  const child = fork(path.join(__dirname, script), [], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const answer = await new Promise<{ url?: string; error?: string }>((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`the bench ${label} process exited (code ${code}) before it listened`)));
    child.send(options as object);
  });
  if (!answer.url) throw new Error(`the bench ${label} process did not start: ${answer.error}`);
  return {
    url: answer.url,
    cpuMs: () =>
      new Promise<number>((resolve) => {
        const onMessage = (message: { cpuMs?: number }) => {
          if (message.cpuMs === undefined) return;
          child.off('message', onMessage);
          resolve(message.cpuMs);
        };
        child.on('message', onMessage);
        child.send('cpu');
      }),
    async close() {
      if (child.connected) child.disconnect();
      await exited;
    },
  };
}

/** The child's side of forkBenchServer: `start` once the options arrive, then the messages it answers. */
export function serveBenchProcess<O>(start: (options: O) => Promise<{ url: string; close(): Promise<void> }>): void {
  process.once('message', (options: O) => {
    start(options).then(
      (server) => {
        process.on('message', (message) => {
          if (message === 'cpu') {
            const { user, system } = process.cpuUsage();
            process.send!({ cpuMs: (user + system) / 1000 });
          }
        });
        process.send!({ url: server.url });
        process.once('disconnect', () => {
          server.close().finally(() => process.exit(0));
        });
      },
      (error: unknown) => {
        process.send!({ error: String((error as Error)?.stack ?? error) });
        process.exit(1);
      },
    );
  });
}

/** The HTTP floor (http-floor-process.ts): a plain HTTP server in front of one Temporal client. */
export function startHttpFloorProcess(options: { temporalAddress: string }): Promise<BenchApiProcess> {
  return forkBenchServer('http-floor-process.js', options, 'HTTP floor');
}

/**
 * The benches' HTTP client: node:http over kept-alive connections (as many as calls in flight, like
 * fetch's pool). fetch cost the load generator about as much CPU per call as the API's own work on
 * a launch, on the two cores the API and the Temporal server share; the request is the same bytes.
 */
const keepAlive = new http.Agent({ keepAlive: true });

/**
 * Closes the kept-alive connections no call is using. Before a burst that follows a pause: a server
 * closes a connection idle for its keep-alive timeout (Node's 5 s) while a client on a busy event
 * loop may not yet have dropped it, and a call sent on it then fails (ECONNRESET, socket hang up).
 */
export function dropIdleConnections(): void {
  for (const sockets of Object.values(keepAlive.freeSockets)) for (const socket of sockets ?? []) socket.destroy();
}

/** One HTTP call as a client sees it: status, body size and time. */
export function timedFetch(
  url: string,
  init: { method?: string; token?: string; body?: unknown },
): Promise<{ status: number; bytes: number; ms: number; body: string }> {
  const t0 = performance.now();
  const payload = init.body ? JSON.stringify(init.body) : undefined;
  const headers: http.OutgoingHttpHeaders = init.token ? { authorization: `Bearer ${init.token}` } : {};
  if (payload !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = Buffer.byteLength(payload);
  }
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: init.method ?? 'GET', headers, agent: keepAlive }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const bytes = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, bytes: bytes.length, ms: performance.now() - t0, body: bytes.toString('utf8') });
      });
    });
    request.on('error', reject);
    request.end(payload);
  });
}

/** Runs `task(i)` for i in [0, count) with at most `concurrency` in flight. */
export async function inPool(count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
}
