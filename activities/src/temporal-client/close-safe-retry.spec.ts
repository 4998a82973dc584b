import { status as GrpcStatus } from '@grpc/grpc-js';
import { Connection, defaultGrpcRetryOptions, type GrpcRetryOptions } from '@temporalio/client';
import net from 'node:net';
import { closeSafeGrpcRetry } from './close-safe-retry';

/** A loopback port nothing listens on: every attempt is refused, so the SDK retries it. */
async function refusedAddress(): Promise<string> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `127.0.0.1:${port}`;
}

/** The default retry policy, telling when its first backoff has been scheduled. */
function retryWatched(): { options: GrpcRetryOptions; backingOff: Promise<void> } {
  const defaults = defaultGrpcRetryOptions();
  let signal!: () => void;
  const backingOff = new Promise<void>((resolve) => (signal = resolve));
  return {
    backingOff,
    options: {
      retryableDecider: defaults.retryableDecider,
      delayFunction(attempt, status) {
        signal();
        return defaults.delayFunction(attempt, status);
      },
    },
  };
}

describe('closeSafeGrpcRetry', () => {
  it('ends a call whose connection closes while it waits to be retried, in the caller, as CANCELLED naming the closed connection', async () => {
    const { options, backingOff } = retryWatched();
    const connection = Connection.lazy({ address: await refusedAddress(), interceptors: [closeSafeGrpcRetry(options)] });
    const call = connection.workflowService.getSystemInfo({});
    const settled = call.then(
      () => ({ code: GrpcStatus.OK, message: 'answered' }),
      (error: { code?: number; message: string }) => ({ code: error.code, message: error.message }),
    );
    await backingOff; // the first attempt was refused and its retry waits in a timer
    await connection.close();
    await expect(settled).resolves.toEqual({
      code: GrpcStatus.CANCELLED,
      message: expect.stringContaining('the connection to Temporal was closed before the call could be sent again'),
    });
  });

  it('rejects a call made after the connection closed, in the caller, as without the wrapper', async () => {
    const connection = Connection.lazy({ address: await refusedAddress(), interceptors: [closeSafeGrpcRetry()] });
    await connection.close();
    await expect(connection.workflowService.getSystemInfo({})).rejects.toThrow(/has been shut down/);
  });

  it('never retries an attempt it could not open, even when the policy would retry its code', async () => {
    const { options, backingOff } = retryWatched();
    const decided: number[] = [];
    const connection = Connection.lazy({
      address: await refusedAddress(),
      interceptors: [
        closeSafeGrpcRetry({
          delayFunction: options.delayFunction,
          retryableDecider: (attempt, status) => (decided.push(status.code), true),
        }),
      ],
    });
    const call = connection.workflowService.getSystemInfo({}).catch((error: { code?: number }) => error.code);
    await backingOff;
    await connection.close();
    expect(await call).toBe(GrpcStatus.CANCELLED);
    // Asked once, for the refused first attempt; the unopened second one ended the call.
    expect(decided).toEqual([GrpcStatus.UNAVAILABLE]);
  });

  it('still retries a refused call while the connection is open, and gives up with the server unreachable (UNAVAILABLE)', async () => {
    const attempts: number[] = [];
    const connection = Connection.lazy({
      address: await refusedAddress(),
      interceptors: [
        closeSafeGrpcRetry({
          retryableDecider: (attempt, status) => (attempts.push(attempt), attempt < 3 && status.code === GrpcStatus.UNAVAILABLE),
          delayFunction: () => 1,
        }),
      ],
    });
    try {
      await expect(connection.workflowService.getSystemInfo({})).rejects.toMatchObject({ code: GrpcStatus.UNAVAILABLE });
      expect(attempts).toEqual([1, 2, 3]);
    } finally {
      await connection.close();
    }
  });
});
