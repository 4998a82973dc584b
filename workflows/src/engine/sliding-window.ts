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

/**
 * slidingWindow with fewer promises per item (the worker keeps a stack trace of every promise a
 * workflow makes, so a 200-host batch felt a condition and a finally per host): one condition per
 * wake-up rather than per item, and every item that may start then starts at once. Starts are
 * decided only here, after the SDK has applied all of an activation's completions and re-checked
 * the condition, never inside an item's completion: a success landing in the same workflow task
 * as a failure must not start a host before the failure has been counted against `stopped()`.
 * Same control and result as slidingWindow, but items start in another order within a workflow
 * task, so a workflow switches between the two with patched().
 */
export async function laneWindow<T>(items: readonly T[], control: WindowControl, work: (item: T) => Promise<void>): Promise<T[]> {
  let running = 0;
  let next = 0;
  const started: Promise<void>[] = [];
  const mayStart = () => next < items.length && !control.stopped() && !control.paused() && running < control.concurrency();
  const start = async (item: T) => {
    running += 1;
    try {
      await work(item);
    } finally {
      running -= 1;
    }
  };
  while (next < items.length && !control.stopped()) {
    await condition(() => control.stopped() || mayStart());
    while (mayStart()) started.push(start(items[next++]));
  }
  await Promise.all(started);
  return items.slice(next);
}
