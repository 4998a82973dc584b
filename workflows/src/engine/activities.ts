import {
  ActivityFailure,
  ApplicationFailure,
  proxyActivities,
  proxyLocalActivities,
  type ActivityOptions,
  type RetryPolicy,
} from '@temporalio/workflow';
import { HOST_ACTION_TIMEOUT_MARGIN_MS, isAttemptDetail, type Enveloped } from '@runbooks/contracts';
import type { RunbookActivities } from '@runbooks/activities';

/**
 * Defaults for every step's activity; a step may override them. Every activity heartbeats while
 * it runs (the worker's attempt envelope does it for those that do not themselves), so a worker
 * that dies is noticed at the heartbeat timeout, in seconds, whatever the step; the start-to-close
 * timeout only bounds work that hangs, and is sized per activity below.
 */
export const DEFAULT_STEP_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  heartbeatTimeout: '10 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 5 },
};

/** How long each activity's work may take, by what it does (a lost worker is caught by the heartbeat instead). */
export const ACTIVITY_START_TO_CLOSE: Partial<Record<keyof RunbookActivities, ActivityOptions['startToCloseTimeout']>> = {
  // restic check reads every index and tree, and may wait its turn for the repository lock.
  checkBackupRepository: '2 hours',
  // Proportional to the data: bounded generously, the heartbeat watches the worker.
  restoreToStaging: '24 hours',
  verifyRestoredContent: '24 hours',
  // Renames on one filesystem; putting back or discarding removes a whole tree.
  swapIntoTarget: '5 minutes',
  restorePreviousContents: '30 minutes',
  discardStaging: '30 minutes',
  notify: '30 seconds',
  // A fleet run's report lists every host (up to 100,000 rows read from the store).
  writeReport: '5 minutes',
  resolveTargets: '1 minute',
  checkMaintenanceWindow: '30 seconds',
  claimPreApprovals: '30 seconds',
  // A fleet run's host records: the plan reads the inventory and writes one row per host (up to 100,000), the rest a batch at most.
  planRollout: '10 minutes',
  rolloutBatchHosts: '1 minute',
  recordHostOutcomes: '1 minute',
  skipPendingHosts: '5 minutes',
  changedHosts: '1 minute',
};

/**
 * Host actions (snapshot, patch, health, restore). Temporal retries only what the infrastructure
 * lost, without limit: a heartbeat timeout or a start-to-close timeout means the worker died or
 * hung, never that the host failed. Failures of the host or its driver are counted by the activity
 * itself (a few attempts, then a non-retryable failure the batch records against the host), and
 * the activity stops its own work at the host timeout, HOST_ACTION_TIMEOUT_MARGIN_MS before this
 * start-to-close timeout, reporting it as the host's failure.
 */
export function hostActionOptions(hostTimeoutSeconds: number): ActivityOptions {
  return {
    startToCloseTimeout: hostTimeoutSeconds * 1000 + HOST_ACTION_TIMEOUT_MARGIN_MS,
    heartbeatTimeout: '10 seconds',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 seconds', maximumAttempts: Number.POSITIVE_INFINITY },
  };
}

/** The store's bookkeeping a fleet run does between its batches. */
export type FleetBookkeeping = Pick<RunbookActivities, 'rolloutBatchHosts' | 'recordHostOutcomes'>;

/** patched: runs recorded before did their bookkeeping through the task queue (and replay so). */
export const LOCAL_BOOKKEEPING_PATCH = 'fleet-bookkeeping-local';

/**
 * A fleet run's bookkeeping in the store (a batch's hosts, their outcomes) as local activities: a
 * few ms on the worker that runs the workflow task. Through the task queue each cost a round trip
 * and another workflow task while no host was being worked on (at 10,000 hosts about a quarter of
 * a second per batch, twice per batch). Both are idempotent (keyed by run and host), so a local
 * retry is as safe as a queued one.
 */
export function localBookkeeping(retry: RetryPolicy | undefined = DEFAULT_STEP_OPTIONS.retry): FleetBookkeeping {
  const local = proxyLocalActivities<Enveloped<FleetBookkeeping>>({ startToCloseTimeout: '1 minute', retry });
  return {
    rolloutBatchHosts: async (input) => (await local.rolloutBatchHosts(input)).value,
    recordHostOutcomes: async (input) => (await local.recordHostOutcomes(input)).value,
  };
}

/** Observes the attempts of the activities a step calls. */
export interface AttemptObserver {
  attempted(attempt: number): void;
}

/**
 * The runbook activities as a step calls them: plain results, with each attempt count reported
 * to the step's observer (see AttemptEnvelope).
 */
export function stepActivities(options: ActivityOptions, observer: AttemptObserver): RunbookActivities {
  const proxies = new Map<string, (...a: unknown[]) => Promise<{ value: unknown; attempt: number }>>();
  const proxyFor = (name: string) => {
    let proxy = proxies.get(name);
    if (!proxy) {
      const startToClose = ACTIVITY_START_TO_CLOSE[name as keyof RunbookActivities];
      const enveloped = proxyActivities<Enveloped<RunbookActivities>>({
        ...DEFAULT_STEP_OPTIONS,
        ...(startToClose ? { startToCloseTimeout: startToClose } : {}),
        ...options,
        retry: { ...DEFAULT_STEP_OPTIONS.retry, ...options.retry },
      });
      proxy = (enveloped as unknown as Record<string, (...a: unknown[]) => Promise<{ value: unknown; attempt: number }>>)[name];
      proxies.set(name, proxy);
    }
    return proxy;
  };
  return new Proxy({} as RunbookActivities, {
    get(_target, name: string) {
      return (...args: unknown[]) => observed(() => proxyFor(name)(...args), observer);
    },
  });
}

/**
 * The host activities of one batch, proxied once for all its hosts: the function returned gives a
 * host's view, whose calls report their attempts to the observer it is given. One promise per call on top of
 * the SDK's, and no proxies built per host: a batch makes hundreds of calls and the worker keeps a
 * stack trace of every promise a workflow makes. Results settle in fewer microtask turns than
 * through stepActivities and step() around it, which can order a task's commands differently: a
 * workflow switches to it with patched().
 */
export function batchActivities(options: ActivityOptions): (observer: AttemptObserver) => RunbookActivities {
  const enveloped = proxyActivities<Enveloped<RunbookActivities>>({
    ...DEFAULT_STEP_OPTIONS,
    ...options,
    retry: { ...DEFAULT_STEP_OPTIONS.retry, ...options.retry },
  }) as unknown as Record<string, (...args: unknown[]) => Promise<{ value: unknown; attempt: number }>>;
  return (observer) =>
    new Proxy({} as RunbookActivities, {
      get:
        (_target, name: string) =>
        (...args: unknown[]) =>
          observed(() => enveloped[name](...args), observer),
    });
}

/**
 * An activity call's result out of its attempt envelope, its attempt reported to the observer.
 * then() rather than an async wrapper: one promise per call instead of two (the SDK captures a
 * stack for each), settling in the same number of microtask turns, so commands keep their order.
 */
function observed(schedule: () => Promise<{ value: unknown; attempt: number }>, observer: AttemptObserver): Promise<unknown> {
  let scheduled: Promise<{ value: unknown; attempt: number }>;
  try {
    scheduled = schedule();
  } catch (error) {
    return Promise.reject(error); // as an async wrapper would: a rejection, never a throw
  }
  return scheduled.then(
    (envelope) => unwrap(envelope, observer),
    (error: unknown) => reportFailure(error, observer),
  );
}

/** An activity's result out of its attempt envelope, the attempt reported to the observer. */
function unwrap(envelope: { value: unknown; attempt: number }, observer: AttemptObserver): unknown {
  observer.attempted(envelope.attempt);
  return envelope.value;
}

/** Reports the attempt a failed activity reached (when its failure says) and rethrows the failure. */
function reportFailure(error: unknown, observer: AttemptObserver): never {
  const attempt = failedAttempt(error);
  if (attempt !== undefined) observer.attempted(attempt);
  throw error;
}

function failedAttempt(error: unknown): number | undefined {
  if (!(error instanceof ActivityFailure) || !(error.cause instanceof ApplicationFailure)) return undefined;
  const last = error.cause.details?.at(-1);
  return isAttemptDetail(last) ? last.attempt : undefined;
}

/** The message a person should read: an activity failure's cause, not the wrapper. */
export function describeError(error: unknown): string {
  if (error instanceof ActivityFailure && error.cause) return describeError(error.cause);
  if (error instanceof Error) return error.message;
  return String(error);
}
