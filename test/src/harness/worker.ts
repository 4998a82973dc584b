import { DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import { Client, Connection } from '@temporalio/client';
import { createActivities, LogNotifier, WebhookNotifier, type HostActivitiesConfig, type RunbookActivities } from '@runbooks/activities';
import { createRunbookWorker } from '@runbooks/worker';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface TestWorker {
  taskQueue: string;
  worker: Worker;
  reportsDir: string;
  /** Stops polling, waits for in-flight tasks, closes the connection. */
  stop(): Promise<void>;
}

export interface TestWorkerOptions {
  taskQueue?: string;
  /** Where notifications go; without it they are appended to a JSONL file in the worker's tmp dir. */
  webhookUrl?: string;
  /** The inventory and lab fleet the host activities act on. */
  hosts?: HostActivitiesConfig;
  /** The maintenance calendar (windows and change freezes). */
  calendarFile?: string;
  /** Approvals given ahead for scheduled runs. */
  preApprovalsFile?: string;
  /** Replace some activities, e.g. to inject a fault after a real one ran. */
  overrideActivities?: (real: RunbookActivities) => Partial<RunbookActivities>;
}

/** A real worker on its own task queue, against the run's dev server and the pre-built bundle. */
export async function startTestWorker(options: TestWorkerOptions = {}): Promise<TestWorker> {
  installQuietRuntime();
  const taskQueue = options.taskQueue ?? `test-${randomUUID()}`;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'runbooks-worker-'));
  const reportsDir = path.join(tmp, 'reports');
  const notifier = options.webhookUrl ? new WebhookNotifier(options.webhookUrl) : new LogNotifier(path.join(tmp, 'notifications.jsonl'));
  const real = createActivities({
    reportsDir,
    notifier,
    hosts: options.hosts,
    calendarFile: options.calendarFile,
    preApprovalsFile: options.preApprovalsFile,
  });
  const activities = { ...real, ...options.overrideActivities?.(real) };
  const connection = await NativeConnection.connect({ address: temporalAddress() });
  const worker = await createRunbookWorker({
    connection,
    namespace: 'default',
    taskQueue,
    activities,
    workflowBundlePath: process.env.RUNBOOKS_WORKFLOW_BUNDLE,
    shutdownGraceMs: 5_000,
  });
  const running = worker.run();
  return {
    taskQueue,
    worker,
    reportsDir,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      await connection.close();
      fs.rmSync(tmp, { recursive: true, force: true });
    },
  };
}

let runtimeInstalled = false;
/** Worker lifecycle INFO lines drown the test output; warnings and errors still show. */
export function installQuietRuntime(): void {
  if (runtimeInstalled) return;
  Runtime.install({ logger: new DefaultLogger('WARN') });
  runtimeInstalled = true;
}

export function temporalAddress(): string {
  const address = process.env.TEMPORAL_ADDRESS;
  if (!address) throw new Error('TEMPORAL_ADDRESS is not set: run the tests through jest (globalSetup starts the server)');
  return address;
}

/** A plain client on the run's dev server. Close its connection in afterAll. */
export async function testClient(): Promise<{ client: Client; connection: Connection }> {
  const connection = await Connection.connect({ address: temporalAddress() });
  return { client: new Client({ connection, namespace: 'default' }), connection };
}

/** Polls until `check` returns a value (not undefined) or the time runs out. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 20_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
}
