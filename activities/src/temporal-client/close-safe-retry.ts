import { Metadata, status as GrpcStatus, type Interceptor, type NextCall, type StatusObject } from '@grpc/grpc-js';
import { defaultGrpcRetryOptions, makeGrpcRetryInterceptor, type GrpcRetryOptions } from '@temporalio/client';

type Call = ReturnType<NextCall>;
type Listener = Parameters<Call['start']>[1];

/**
 * The Temporal client's gRPC retry, safe to close under.
 *
 * The SDK's retry interceptor waits out its backoff in a timer, then opens the next attempt on
 * the channel. When the connection was closed in between (a process shutting down while a call
 * was being retried, say during the Temporal server's own restart), opening that attempt throws
 * "Channel has been shut down" from inside the timer: an uncaught exception, nowhere near the
 * caller, whose promise never settles. Here such an attempt ends instead as a CANCELLED answer
 * naming the closed connection, never retried, so the caller's call rejects and nothing else breaks.
 * A first attempt is opened as before: on a closed connection it throws to its caller at once.
 */
export function closeSafeGrpcRetry(options: GrpcRetryOptions = defaultGrpcRetryOptions()): Interceptor {
  /** The answers of attempts that could not be opened: final, whatever the policy says of their code. */
  const unopened = new WeakSet<StatusObject>();
  const retry = makeGrpcRetryInterceptor({
    delayFunction: options.delayFunction,
    retryableDecider: (attempt, status) => !unopened.has(status) && options.retryableDecider(attempt, status),
  });
  return (callOptions, nextCall) => {
    let attempts = 0;
    return retry(callOptions, (attemptOptions) => {
      attempts += 1;
      if (attempts === 1) return nextCall(attemptOptions);
      try {
        return nextCall(attemptOptions);
      } catch (error) {
        const reason = (error as Error).message;
        const status: StatusObject = {
          code: GrpcStatus.CANCELLED,
          details: /shut down/i.test(reason)
            ? `the connection to Temporal was closed before the call could be sent again (${reason})`
            : `the call could not be sent again: ${reason}`,
          metadata: new Metadata(),
        };
        unopened.add(status);
        return endedCall(status);
      }
    });
  };
}

/** An attempt that never reaches the wire: it answers `status` as soon as it starts. */
function endedCall(status: StatusObject): Call {
  let listener: Listener | undefined;
  return {
    start(_metadata, startedListener) {
      listener = startedListener;
      process.nextTick(() => listener?.onReceiveStatus?.(status));
    },
    cancelWithStatus() {},
    getPeer: () => '',
    getAuthContext: () => null,
    sendMessageWithContext() {},
    sendMessage() {},
    startRead() {},
    halfClose() {},
  };
}
