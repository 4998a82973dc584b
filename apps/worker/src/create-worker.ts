import { NativeConnection, Worker } from '@temporalio/worker';
import type { RunbookActivities } from '@runbooks/activities';
import { withAttemptEnvelopes } from './attempt-envelope';
import { bundleRunbookWorkflows } from './bundle';

export interface RunbookWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: RunbookActivities;
  /** A pre-built bundle file; without it the workflows are bundled now (seconds). */
  workflowBundlePath?: string;
  shutdownGraceMs?: number;
}

/** The one place a runbook worker is assembled: every workflow and activity on one task queue. */
export async function createRunbookWorker(options: RunbookWorkerOptions): Promise<Worker> {
  const workflowBundle = options.workflowBundlePath ? { codePath: options.workflowBundlePath } : await bundleRunbookWorkflows();
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    workflowBundle,
    activities: withAttemptEnvelopes(options.activities),
    shutdownGraceTime: options.shutdownGraceMs ?? 30_000,
    // The SDK sends heartbeats at most every 0.8 x the heartbeat timeout by default: with the
    // steps' 10 s timeout that leaves 2 s of slack, too little on a busy machine. Every 2 s leaves 8.
    maxHeartbeatThrottleInterval: '2 seconds',
  });
}
