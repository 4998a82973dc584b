import { Context } from '@temporalio/activity';
import { writeFileSync } from 'node:fs';

/** Fault injection for the crash tests: where to hold one activity so a test can kill the worker there. */
export interface FaultHold {
  /** The activity (e.g. `swapIntoTarget`) whose first call is held once its work is done. */
  activity: string;
  /** Created when the call is held (the test's cue to kill the worker); while it exists, no call is held again. */
  markerFile: string;
}

/**
 * Holds the first call of one activity after its work is done and before its result is reported,
 * until it is cancelled or the worker dies: the worst moment for a crash, since the retry must find
 * the work already done and not do it twice. Set by RUNBOOKS_FAULT_HOLD_AFTER and
 * RUNBOOKS_FAULT_HOLD_MARKER; never set in production.
 */
export function withFaultHold<A extends object>(activities: A, hold: FaultHold | undefined): A {
  if (!hold) return activities;
  const real = (activities as Record<string, unknown>)[hold.activity];
  if (typeof real !== 'function') throw new Error(`RUNBOOKS_FAULT_HOLD_AFTER names no activity: ${hold.activity}`);
  const held = async (...args: unknown[]) => {
    const result = await (real as (...a: unknown[]) => Promise<unknown>)(...args);
    if (claimMarker(hold.markerFile)) await Context.current().cancelled;
    return result;
  };
  return { ...activities, [hold.activity]: held };
}

/** True for the one call that creates the marker. */
function claimMarker(file: string): boolean {
  try {
    writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
    return true;
  } catch {
    return false;
  }
}
