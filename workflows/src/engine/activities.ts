import { ActivityFailure, ApplicationFailure, proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import { isAttemptDetail, type Enveloped } from '@runbooks/contracts';
import type { RunbookActivities } from '@runbooks/activities';

/** Defaults for every step's activity; a step may override them. */
export const DEFAULT_STEP_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 5 },
};

/** Observes the attempts of the activities a step calls. */
export interface AttemptObserver {
  attempted(attempt: number): void;
}

/**
 * The runbook activities as a step calls them: plain results, with each attempt count reported
 * to the step's observer (see AttemptEnvelope).
 */
export function stepActivities(options: ActivityOptions, observer: AttemptObserver): RunbookActivities {
  const enveloped = proxyActivities<Enveloped<RunbookActivities>>({
    ...DEFAULT_STEP_OPTIONS,
    ...options,
    retry: { ...DEFAULT_STEP_OPTIONS.retry, ...options.retry },
  });
  return new Proxy({} as RunbookActivities, {
    get(_target, name: string) {
      return async (...args: unknown[]) => {
        try {
          const envelope = await (
            enveloped as unknown as Record<string, (...a: unknown[]) => Promise<{ value: unknown; attempt: number }>>
          )[name](...args);
          observer.attempted(envelope.attempt);
          return envelope.value;
        } catch (error) {
          const attempt = failedAttempt(error);
          if (attempt !== undefined) observer.attempted(attempt);
          throw error;
        }
      };
    },
  });
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
