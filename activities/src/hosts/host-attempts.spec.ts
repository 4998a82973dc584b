import { ApplicationFailure } from '@temporalio/common';
import { HOST_ERROR_ATTEMPTS, HostFailureType, hostAttempts } from './failures';

describe('hostAttempts: the host failure budget lives in the activity', () => {
  it('tries a retryable driver failure again, then leaves it as non-retryable so Temporal does not retry it', async () => {
    const work = jest.fn(async () => {
      throw ApplicationFailure.retryable('ssh host h1 cannot be reached: ECONNREFUSED', HostFailureType.unreachable);
    });
    const failure = await hostAttempts('h1', 'patch', undefined, work).catch((e: unknown) => e as ApplicationFailure);
    expect(work).toHaveBeenCalledTimes(HOST_ERROR_ATTEMPTS);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: HostFailureType.unreachable, nonRetryable: true });
    expect(failure.message).toBe(`ssh host h1 cannot be reached: ECONNREFUSED (after ${HOST_ERROR_ATTEMPTS} attempts)`);
  }, 15_000);

  it('a non-retryable failure is not tried again', async () => {
    const work = jest.fn(async () => {
      throw ApplicationFailure.nonRetryable('patch failed', HostFailureType.patchFailed);
    });
    await expect(hostAttempts('h1', 'patch', undefined, work)).rejects.toMatchObject({
      type: HostFailureType.patchFailed,
      nonRetryable: true,
    });
    expect(work).toHaveBeenCalledTimes(1);
  });

  it('succeeds when a later try does', async () => {
    let calls = 0;
    const result = await hostAttempts('h1', 'health', undefined, async () => {
      if (++calls === 1) throw ApplicationFailure.retryable('connection reset', HostFailureType.unreachable);
      return { healthy: true };
    });
    expect(result).toEqual({ healthy: true });
    expect(calls).toBe(2);
  });

  it("a cancellation (the worker stops, the run is cancelled) passes through untouched: it is not the host's failure", async () => {
    const controller = new AbortController();
    const reason = new Error('cancelled');
    const work = jest.fn(
      (signal: AbortSignal | undefined) =>
        new Promise<never>((_, reject) => signal?.addEventListener('abort', () => reject(signal.reason), { once: true })),
    );
    const outcome = hostAttempts('h1', 'patch', controller.signal, work);
    controller.abort(reason);
    await expect(outcome).rejects.toBe(reason);
    expect(work).toHaveBeenCalledTimes(1);
  });
});
