import { NativeConnection, Worker } from '@temporalio/worker';
import type { RunbookActivities } from '@runbooks/activities';
import type { PayloadCodec } from '@temporalio/common';
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
  /** Encrypts payloads (AesGcmPayloadCodec); every client of the deployment must use the same keys. */
  payloadCodec?: PayloadCodec;
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
    dataConverter: { payloadCodecs: options.payloadCodec ? [options.payloadCodec] : [] },
  });
}
