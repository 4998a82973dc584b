import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { HOST_ACTION_TIMEOUT_MARGIN_MS } from '@runbooks/contracts';
import { abortableDelay } from '../wait';

/** ApplicationFailure types the hosts activities throw; workflows and reports match on them. */
export const HostFailureType = {
  /** The inventory has no host of that name. */
  notInInventory: 'HostNotInInventory',
  /** The inventory file, or one given to replace it, does not pass the inventory schema. */
  inventoryInvalid: 'InventoryInvalid',
  /** The patch could not be applied, or the packages are not at the patched versions afterwards. */
  patchFailed: 'PatchFailed',
  /** The host presented another key than the one pinned (or first seen) for it. */
  hostKeyMismatch: 'HostKeyMismatch',
  /** The host refused the key: a configuration problem retries do not fix. */
  authenticationFailed: 'HostAuthenticationFailed',
  /** No connection (refused, timed out, reset): may come back, so retryable. */
  unreachable: 'HostUnreachable',
  /** A snapshot, health or restore command exited non-zero. */
  commandFailed: 'HostCommandFailed',
  /** A command ran longer than its limit and was stopped. */
  commandTimedOut: 'HostCommandTimedOut',
  /** No snapshot of that id was taken of that host. */
  snapshotNotFound: 'HostSnapshotNotFound',
  /** The host's entry cannot work with its driver (no ssh settings, no commands for its OS family). */
  misconfigured: 'HostMisconfigured',
  /** The input of a host activity is malformed. */
  invalidInput: 'HostActionInvalid',
} as const;

export function nonRetryable(message: string, type: string, ...details: unknown[]): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, type, ...details);
}

export function retryable(message: string, type: string, ...details: unknown[]): ApplicationFailure {
  return ApplicationFailure.retryable(message, type, ...details);
}

/** Tries a host action gets for failures the host or its driver report; a lost worker costs none. */
export const HOST_ERROR_ATTEMPTS = 3;
/** Pause before the 2nd and 3rd try. */
const HOST_RETRY_DELAYS_MS = [1_000, 3_000];

/**
 * Runs one host action with the host's own failure budget. Temporal retries a host action only
 * when the infrastructure lost it (heartbeat or start-to-close timeout: a dead or hung worker),
 * without limit (see hostActionOptions in the workflows). So every failure of the host or its
 * driver is counted here: a retryable one is tried again up to HOST_ERROR_ATTEMPTS times, then
 * it, or any non-retryable one, leaves as a non-retryable failure the batch charges to the host.
 * The host timeout is enforced here too, just before the activity's start-to-close timeout, and
 * is the host's failure. A cancellation (the worker shuts down, the run is cancelled) passes
 * through untouched: it is nobody's failure.
 */
export async function hostAttempts<T>(
  host: string,
  step: string,
  signal: AbortSignal | undefined,
  work: (signal: AbortSignal | undefined) => Promise<T>,
): Promise<T> {
  const budgetMs = hostTimeBudgetMs();
  const timeout = hostTimeout(signal, budgetMs);
  const bounded = timeout.signal;
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        return await work(bounded);
      } catch (error) {
        if (signal?.aborted) throw error;
        if (timeout.expired()) {
          throw nonRetryable(
            `host ${host}: ${step} did not finish within the host timeout (${Math.round((budgetMs ?? 0) / 1000)}s)`,
            HostFailureType.commandTimedOut,
            { host },
          );
        }
        const retryAllowed = !(error instanceof ApplicationFailure && error.nonRetryable);
        if (!retryAllowed || attempt >= HOST_ERROR_ATTEMPTS) throw hostFailure(error, attempt);
        try {
          await abortableDelay(HOST_RETRY_DELAYS_MS[attempt - 1] ?? 0, bounded);
        } catch {
          if (signal?.aborted) throw signal.reason;
          throw hostFailure(error, attempt);
        }
      }
    }
  } finally {
    timeout.clear();
  }
}

/**
 * The activity's cancellation or the host timeout, whichever comes first, as one signal. A plain
 * timer cleared when the action ends: AbortSignal.timeout with AbortSignal.any left a timer of the
 * whole host timeout and weak references behind every host action until the garbage collector
 * found them (30,000 of them in a 10,000-host campaign).
 */
function hostTimeout(
  signal: AbortSignal | undefined,
  budgetMs: number | undefined,
): { signal: AbortSignal | undefined; expired(): boolean; clear(): void } {
  if (budgetMs === undefined) return { signal, expired: () => false, clear: () => undefined };
  const controller = new AbortController();
  let expired = false;
  const timer = setTimeout(() => {
    expired = true;
    controller.abort(new DOMException(`the host timeout of ${budgetMs} ms passed`, 'TimeoutError'));
  }, budgetMs);
  timer.unref(); // as AbortSignal.timeout's: a worker shutting down does not wait for it
  const onAbort = () => controller.abort(signal?.reason);
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    expired: () => expired,
    clear() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    },
  };
}

/** The host's time for this action: the activity's start-to-close timeout less the margin; none outside an activity. */
function hostTimeBudgetMs(): number | undefined {
  let startToClose: number | undefined;
  try {
    startToClose = Context.current().info.startToCloseTimeoutMs;
  } catch {
    return undefined;
  }
  const budget = startToClose - HOST_ACTION_TIMEOUT_MARGIN_MS;
  return budget > 0 ? budget : undefined;
}

/** The driver's failure as one the batch charges to the host: same type and message, never retried by Temporal. */
function hostFailure(error: unknown, attempts: number): ApplicationFailure {
  const tried = attempts > 1 ? ` (after ${attempts} attempts)` : '';
  if (error instanceof ApplicationFailure) {
    return ApplicationFailure.create({
      message: `${error.message}${tried}`,
      type: error.type ?? HostFailureType.commandFailed,
      nonRetryable: true,
      details: error.details ?? undefined,
      cause: error.cause,
    });
  }
  const message = error instanceof Error ? error.message : String(error);
  return ApplicationFailure.create({
    message: `${message}${tried}`,
    type: HostFailureType.commandFailed,
    nonRetryable: true,
    cause: error instanceof Error ? error : undefined,
  });
}
