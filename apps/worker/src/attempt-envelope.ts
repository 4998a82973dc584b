import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure, TemporalFailure } from '@temporalio/common';
import { keepAlive } from '@runbooks/activities';
import type { AttemptDetail, AttemptEnvelope, Enveloped } from '@runbooks/contracts';

/**
 * Wraps every activity so the step engine learns how many attempts it took: the result travels
 * as `{ value, attempt }`, a failure carries `{ attempt }` as its last detail (type, message and
 * retryability unchanged). See AttemptEnvelope in contracts. Every activity heartbeats while it
 * runs (keepAlive), so the steps' short heartbeat timeout catches a lost worker in seconds.
 */
export function withAttemptEnvelopes<A extends object>(activities: A): Enveloped<A> {
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(activities)) {
    if (typeof fn !== 'function') continue;
    wrapped[name] = async (...args: unknown[]): Promise<AttemptEnvelope<unknown>> => {
      const attempt = Context.current().info.attempt;
      try {
        return { value: await keepAlive(() => fn(...args)), attempt };
      } catch (error) {
        throw withAttempt(error, attempt);
      }
    };
  }
  return wrapped as Enveloped<A>;
}

function withAttempt(error: unknown, attempt: number): unknown {
  const detail: AttemptDetail = { attempt };
  if (error instanceof CancelledFailure) return error;
  if (error instanceof ApplicationFailure) {
    return ApplicationFailure.create({
      message: error.message,
      type: error.type ?? undefined,
      nonRetryable: error.nonRetryable ?? undefined,
      details: [...(error.details ?? []), detail],
      nextRetryDelay: error.nextRetryDelay ?? undefined,
      cause: error.cause,
    });
  }
  if (error instanceof TemporalFailure) return error;
  if (error instanceof Error) {
    return ApplicationFailure.create({ message: error.message, type: error.name, details: [detail], cause: error });
  }
  return ApplicationFailure.create({ message: String(error), details: [detail] });
}
