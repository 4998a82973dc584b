import { condition } from '@temporalio/workflow';

export interface WindowControl {
  paused(): boolean;
  concurrency(): number;
  /** Stop starting items; those in flight finish. */
  stopped(): boolean;
}

/**
 * Runs `work` over the items with at most `concurrency()` in flight, re-reading the control
 * between items so a pause, a new concurrency or a stop takes effect at once, and never
 * interrupts an item half-way. Returns the items never started.
 */
export async function slidingWindow<T>(items: readonly T[], control: WindowControl, work: (item: T) => Promise<void>): Promise<T[]> {
  let running = 0;
  let next = 0;
  const inFlight: Promise<void>[] = [];
  while (next < items.length) {
    await condition(() => control.stopped() || (!control.paused() && running < control.concurrency()));
    if (control.stopped()) break;
    const item = items[next++];
    running += 1;
    inFlight.push(work(item).finally(() => (running -= 1)));
  }
  await Promise.all(inFlight);
  return items.slice(next);
}
