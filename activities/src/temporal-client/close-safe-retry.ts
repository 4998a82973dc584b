import { Metadata, status as GrpcStatus, type Interceptor, type NextCall } from '@grpc/grpc-js';
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
 * caller, whose promise never settles. Here that attempt ends instead as a CANCELLED answer naming
 * the closed connection, which is not retried, so the caller's call rejects and nothing else breaks.
 */
export function closeSafeGrpcRetry(options: GrpcRetryOptions = defaultGrpcRetryOptions()): Interceptor {
  const retry = makeGrpcRetryInterceptor(options);
  return (callOptions, nextCall) =>
    retry(callOptions, (attemptOptions) => {
      try {
        return nextCall(attemptOptions);
      } catch (error) {
        return endedCall(`the connection to Temporal was closed before the call could be sent again: ${(error as Error).message}`);
      }
    });
}

/** An attempt that never reaches the wire: it answers CANCELLED with `details` as soon as it starts. */
function endedCall(details: string): Call {
  let listener: Listener | undefined;
  const call: Call = {
    start(_metadata, startedListener) {
      listener = startedListener;
      process.nextTick(() => listener?.onReceiveStatus?.({ code: GrpcStatus.CANCELLED, details, metadata: new Metadata() }));
    },
    cancelWithStatus() {},
    getPeer: () => '',
    getAuthContext: () => null,
    sendMessageWithContext() {},
    sendMessage() {},
    startRead() {},
    halfClose() {},
  };
  return call;
}
