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
 * slidingWindow with a few promises per item instead of a condition per item (the worker keeps a
 * stack trace of every promise a workflow makes, so a 200-host batch felt each one): up to
 * `concurrency()` lanes, each taking the next item as soon as its last one is done, a lane leaving
 * when the window is paused, narrowed or stopped; new lanes open when it resumes or widens. Same
 * control and result as slidingWindow, but items start in another order within a workflow task, so
 * a workflow switches between the two with patched().
 */
export async function laneWindow<T>(items: readonly T[], control: WindowControl, work: (item: T) => Promise<void>): Promise<T[]> {
  let running = 0;
  let next = 0;
  const lanes: Promise<void>[] = [];
  const mayStart = () => next < items.length && !control.stopped() && !control.paused() && running < control.concurrency();
  const lane = async () => {
    while (mayStart()) {
      const item = items[next++];
      running += 1;
      try {
        await work(item);
      } finally {
        running -= 1;
      }
    }
  };
  for (;;) {
    while (mayStart()) lanes.push(lane()); // each lane takes its first item before it returns here
    if (next >= items.length || control.stopped()) break;
    // Woken to open lanes, or once the lanes have taken every item (then only the lanes' ends are awaited).
    await condition(() => control.stopped() || next >= items.length || mayStart());
  }
  await Promise.all(lanes);
  return items.slice(next);
}
