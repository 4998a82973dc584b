import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { Client, Connection } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import {
  AesGcmPayloadCodec,
  closeSafeGrpcRetry,
  createActivities,
  RestoreTargetPolicyStore,
  LogNotifier,
  parseCodecKey,
  WebhookNotifier,
  type AccountsConfig,
  type HostActivitiesConfig,
  type Mailer,
  type RunbookActivities,
  type SecretsConfig,
} from '@runbooks/activities';
import { TEST_CODEC_KEY } from '../../../activities/src/test-support/secrets';
import { createRunbookWorker, type RunbookWorker, type WorkerObservability } from '@runbooks/worker';
import { Store } from '@runbooks/store';
import type { RestoreTargetPolicy } from '@runbooks/contracts';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface TestWorker {
  taskQueue: string;
  worker: RunbookWorker;
  reportsDir: string;
  /** The store its activities write to (the one given, or its own). */
  store: Store;
  /** Stops polling, waits for in-flight tasks, closes the connection. */
  stop(): Promise<void>;
}

export interface TestWorkerOptions {
  taskQueue?: string;
  /** Where notifications go; without it they are appended to a JSONL file in the worker's tmp dir. */
  webhookUrl?: string;
  /** The store (inventory, calendar, approvals given ahead, ledger); default: a fresh SQLite store of the worker's own. */
  store?: Store;
  /** The lab fleet and ssh driver folders the host activities use, and OS commands replacing the defaults. */
  hosts?: Omit<HostActivitiesConfig, 'store'>;
  /** Verify signed caller assertions with these keys (`kid:base64,...`); without, nothing is verified. */
  assertions?: { keys: string; maxAgeMs: number };
  /** The secret definitions and folder (a TestSecrets' config); without it, no secret is defined. */
  secrets?: SecretsConfig;
  /** Where restores may write: written into the store before the worker starts (without it, the store's policy as it is). */
  restoreTargets?: RestoreTargetPolicy;
  /** The account runbooks' directory, file server, mail host and role catalogue (without it: none configured). */
  accounts?: AccountsConfig;
  /** The SMTP relay for mail to people (without it: none configured). */
  mailer?: Mailer;
  /** Replace some activities, e.g. to inject a fault after a real one ran. */
  overrideActivities?: (real: RunbookActivities) => Partial<RunbookActivities>;
  /** Metrics and traces the worker records (none by default). */
  observability?: WorkerObservability;
}

/** A real worker on its own task queue, against the run's dev server and the pre-built bundle. */
export async function startTestWorker(options: TestWorkerOptions = {}): Promise<TestWorker> {
  installQuietRuntime();
  const taskQueue = options.taskQueue ?? `test-${randomUUID()}`;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'runbooks-worker-'));
  const reportsDir = path.join(tmp, 'reports');
  const notifier = options.webhookUrl ? new WebhookNotifier(options.webhookUrl) : new LogNotifier(path.join(tmp, 'notifications.jsonl'));
  const ownStore = options.store ? undefined : Store.open({ kind: 'sqlite', file: path.join(tmp, 'runbooks.sqlite') });
  const store = options.store ?? (ownStore as Store);
  if (options.restoreTargets) await new RestoreTargetPolicyStore(store, { dirs: [], except: [] }).replace(options.restoreTargets);
  const real = createActivities({
    store,
    reportsDir,
    dataDir: tmp,
    notifier,
    hosts: options.hosts,
    mailer: options.mailer,
    secrets: {
      ...(options.secrets ?? { catalogFile: path.join(tmp, 'secrets.json'), secretsDir: path.join(tmp, 'secrets') }),
      assertions: options.assertions,
    },
    accounts: options.accounts,
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
    assertions: options.assertions,
    payloadCodec: testPayloadCodec(),
    observability: options.observability,
    runStatusCopies: store.runStatus,
  });
  const running = worker.run();
  return {
    taskQueue,
    worker,
    reportsDir,
    store,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      await connection.close();
      await ownStore?.close();
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

/** The payload codec every test worker, client and API uses (the tests' public key). */
export function testPayloadCodec(): AesGcmPayloadCodec {
  return new AesGcmPayloadCodec([parseCodecKey('codec/test', TEST_CODEC_KEY)]);
}

/** A payload of a history as the workflow saw it: decrypted with the tests' key, then converted. */
export function payloadValue(payload: Payload): unknown {
  return defaultPayloadConverter.fromPayload(testPayloadCodec().decodeOne(payload));
}

/**
 * A client on the run's dev server, with the tests' payload codec. Close its connection in afterAll;
 * a call still being retried then ends in its own promise instead of throwing in a later test file.
 */
export async function testClient(): Promise<{ client: Client; connection: Connection }> {
  const connection = await Connection.connect({ address: temporalAddress(), interceptors: [closeSafeGrpcRetry()] });
  return { client: new Client({ connection, namespace: 'default', dataConverter: { payloadCodecs: [testPayloadCodec()] } }), connection };
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
