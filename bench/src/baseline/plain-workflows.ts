/**
 * Bare Temporal code, the baselines of the step-overhead, approval-latency and parked-runs
 * benches: nothing but the Temporal SDK (no contracts package, no zod), so the bundle and the
 * memory per workflow are the SDK's own.
 */
import { condition, defineUpdate, proxyActivities, setHandler } from '@temporalio/workflow';
import type { NoopActivities } from './activities';

/** The step-overhead baseline: the same no-op activity K times, one after another. */
export async function bareNoopSteps(steps: number): Promise<number> {
  const { noop } = proxyActivities<NoopActivities>({
    startToCloseTimeout: '10 minutes',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 5 },
  });
  for (let step = 1; step <= steps; step++) await noop({ step });
  return steps;
}

/** The bare twin of the engine's approval: an Update any caller may send. */
export const bareApproveUpdate = defineUpdate<boolean, [{ by: string }]>('bareApprove');

/** The bare approval baseline: waits for an Update, then calls the no-op activity once. */
export async function bareApprovalThenNoop(): Promise<boolean> {
  const { noop } = proxyActivities<NoopActivities>({ startToCloseTimeout: '10 minutes' });
  let approved = false;
  setHandler(bareApproveUpdate, () => {
    approved = true;
    return true;
  });
  await condition(() => approved);
  await noop({ step: 1 });
  return true;
}
