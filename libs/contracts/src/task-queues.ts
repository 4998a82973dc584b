/** The one task queue every runbook workflow and activity is served on. */
export const RUNBOOK_TASK_QUEUE = 'runbooks';

/**
 * Worker affinity (the worker-specific task queue pattern): every worker also polls a queue only
 * it polls, and answers `workerTaskQueue` on the shared queue with that queue's name, so a run can
 * send the steps that share local files (a restore's staging, verify and swap) to one machine.
 */
export interface WorkerAffinityActivities {
  workerTaskQueue(): Promise<string>;
}

/** The queue only the worker `workerId` polls, beside the shared queue it serves. */
export function workerSpecificTaskQueue(sharedTaskQueue: string, workerId: string): string {
  return `${sharedTaskQueue}@${workerId}`;
}
