import { NativeConnection, Runtime, Worker, type State } from '@temporalio/worker';
import {
  ASSERTION_CONFIG_GLOBAL,
  launchRefusal,
  parseAssertionKeys,
  signChildLaunch,
  workerSpecificTaskQueue,
  type AssertionConfig,
  type LaunchAssertionActivities,
  type WorkerAffinityActivities,
} from '@runbooks/contracts';
import fs from 'node:fs/promises';
import type { RunbookActivities } from '@runbooks/activities';
import os from 'node:os';
import type { PayloadCodec } from '@temporalio/common';
import { withAttemptEnvelopes } from './attempt-envelope';
import { bundleRunbookWorkflows } from './bundle';
import { observabilityInterceptors, observabilitySinks, type WorkerObservability } from './observability';
import { runStatusSinks, type RunStatusCopies } from './run-status-sink';

export interface RunbookWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: RunbookActivities;
  /**
   * Names this worker's own task queue; unique per machine. Default: hostname and pid (a new
   * queue per process). A stable id lets a restarted worker pick up the work left on its queue.
   */
  workerId?: string;
  /** A pre-built bundle file; without it the workflows are bundled now (seconds). */
  workflowBundlePath?: string;
  shutdownGraceMs?: number;
  /**
   * Keys that verify the API's signed caller assertions (`kid:base64[,kid:base64]`, newest first;
   * RUNBOOKS_ASSERTION_KEYS) and their maximum age. Without keys the worker verifies no assertion.
   */
  assertions?: { keys: string; maxAgeMs: number };
  /** Encrypts payloads (AesGcmPayloadCodec); every client of the deployment must use the same keys. */
  payloadCodec?: PayloadCodec;
  /** Metrics and traces the worker records (apps/api/README.md "Metrics" and "Traces"); none by default. */
  observability?: WorkerObservability;
  /**
   * Runs kept in memory between their workflow tasks (RUNBOOKS_WORKER_MAX_CACHED_WORKFLOWS).
   * A run waiting longer than the cache holds it is evicted and replayed from history on its
   * next task, so the cap bounds the worker's memory, not the number of waiting runs.
   */
  maxCachedWorkflows?: number;
  /** Where the runs' status copies go (the store's runStatus), which the API reads without a query; without it none are kept. */
  runStatusCopies?: RunStatusCopies;
}

/**
 * The SDK sizes its cache from the heap limit (about 1,100 runs on a 2 GB heap), far more than
 * the memory waiting runs may take: bench/README.md measures the memory per cached run.
 */
export const DEFAULT_MAX_CACHED_WORKFLOWS = 1000;

/** A runbook worker: the shared queue (workflows, every activity) and the queue only it polls. */
export interface RunbookWorker {
  readonly taskQueue: string;
  /** Where a run sends the steps that must share this machine's files (see workflows/src/data-restore.ts). */
  readonly workerTaskQueue: string;
  /** Polls both queues until shutdown; if either stops, the other is shut down too. */
  run(): Promise<void>;
  shutdown(): void;
  getState(): State;
}

/** The one place a runbook worker is assembled: every workflow and activity on one task queue, plus its own queue. */
export async function createRunbookWorker(options: RunbookWorkerOptions): Promise<RunbookWorker> {
  let workflowBundle: { codePath: string } | { code: string } = options.workflowBundlePath
    ? { codePath: options.workflowBundlePath }
    : await bundleRunbookWorkflows();
  if (options.assertions) {
    parseAssertionKeys(options.assertions.keys); // refuse a malformed key at start, not at the first decision
    const code = 'code' in workflowBundle ? workflowBundle.code : await fs.readFile(workflowBundle.codePath, 'utf8');
    const config: AssertionConfig = options.assertions;
    // The sandbox cannot read the environment: the keys are defined before the bundle runs, on its
    // first line so the bundle's source map still lines up. They stay in this process's memory.
    workflowBundle = { code: `globalThis[${JSON.stringify(ASSERTION_CONFIG_GLOBAL)}]=Object.freeze(${JSON.stringify(config)});${code}` };
  }
  const activities = withAttemptEnvelopes(options.activities);
  const workerTaskQueue = workerSpecificTaskQueue(options.taskQueue, options.workerId ?? defaultWorkerId());
  const affinity: WorkerAffinityActivities = { workerTaskQueue: async () => workerTaskQueue };
  const common = {
    connection: options.connection,
    namespace: options.namespace,
    shutdownGraceTime: options.shutdownGraceMs ?? 30_000,
    dataConverter: { payloadCodecs: options.payloadCodec ? [options.payloadCodec] : [] },
    // The SDK sends heartbeats at most every 0.8 x the heartbeat timeout by default: with the
    // steps' 10 s timeout that leaves 2 s of slack, too little on a busy machine. Every 2 s leaves 8.
    maxHeartbeatThrottleInterval: '2 seconds' as const,
    interceptors: observabilityInterceptors(options.observability),
  };
  const shared = await Worker.create({
    ...common,
    taskQueue: options.taskQueue,
    workflowBundle,
    maxCachedWorkflows: options.maxCachedWorkflows ?? DEFAULT_MAX_CACHED_WORKFLOWS,
    activities: { ...activities, ...affinity, ...launchAssertionActivities(options.assertions) },
    sinks: workerSinks(options),
  });
  // No workflows here: only the activities a run pins to this machine are sent to this queue.
  const own = await Worker.create({ ...common, taskQueue: workerTaskQueue, activities });
  const workers = [shared, own];
  const shutdown = () => {
    for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
  };
  return {
    taskQueue: options.taskQueue,
    workerTaskQueue,
    async run() {
      const outcomes = await Promise.allSettled(workers.map((worker) => worker.run().finally(shutdown)));
      const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
      if (failed) throw failed.reason;
    },
    shutdown,
    getState: () => shared.getState(),
  };
}

function defaultWorkerId(): string {
  return `${os.hostname()}-${process.pid}`;
}

/**
 * The launch check (and a child's signed launch) runs as a local activity, not in workflow code: its
 * verdict is recorded in history, so a run replays the same even after the keys rotate. Without
 * keys nothing is checked or signed.
 */
function launchAssertionActivities(assertions: RunbookWorkerOptions['assertions']): LaunchAssertionActivities {
  const keys = assertions ? parseAssertionKeys(assertions.keys) : undefined;
  return {
    async verifyLaunchAssertion(check) {
      if (!keys || !assertions) return { checked: false };
      return { checked: true, refusal: launchRefusal(keys, assertions.maxAgeMs, check) };
    },
    async signChildLaunch(request) {
      return signChildLaunch(keys, assertions?.maxAgeMs ?? 0, request, new Date());
    },
  };
}

/**
 * The sinks the bundled workflows call: metrics and traces, and the runs' status copies. A replay
 * worker needs them too (`workerSinks({})`): the SDK looks them up, though it never calls them on replay.
 */
export function workerSinks(options: Pick<RunbookWorkerOptions, 'observability' | 'runStatusCopies'>) {
  return {
    ...observabilitySinks(options.observability),
    ...runStatusSinks(options.runStatusCopies ?? { put: async () => undefined }, (error) =>
      Runtime.instance().logger.warn(`a run's status copy was not written: ${String(error)}`),
    ),
  };
}
