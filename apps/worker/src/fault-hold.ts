import { Context } from '@temporalio/activity';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

/** Fault injection for the crash tests: which activities to hold so a test can kill the worker there. */
export interface FaultHold {
  /** The activities (e.g. `swapIntoTarget`) whose first call is held once its work is done. */
  activities: string[];
  /** Where `<activity>` marker files are created when a call is held (the test's cue to kill the worker). */
  markerDir: string;
}

/**
 * Holds the first call of each named activity after its work is done and before its result is
 * reported, until it is cancelled or the worker dies: the worst moment for a crash, since the
 * retry must find the work already done and not do it twice. Each activity is held once (its
 * marker file says it was, for every worker sharing the folder). Set by RUNBOOKS_FAULT_HOLD_AFTER
 * (comma-separated activity names) and RUNBOOKS_FAULT_HOLD_DIR; never set in production.
 */
export function withFaultHold<A extends object>(activities: A, hold: FaultHold | undefined): A {
  if (!hold) return activities;
  const wrapped: Record<string, unknown> = { ...(activities as Record<string, unknown>) };
  for (const name of hold.activities) {
    const real = wrapped[name];
    if (typeof real !== 'function') throw new Error(`RUNBOOKS_FAULT_HOLD_AFTER names no activity: ${name}`);
    wrapped[name] = async (...args: unknown[]) => {
      const result = await (real as (...a: unknown[]) => Promise<unknown>)(...args);
      if (claimMarker(path.join(hold.markerDir, name))) await Context.current().cancelled;
      return result;
    };
  }
  return wrapped as unknown as A;
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
