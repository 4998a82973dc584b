import { ApiError, ConnectionError, type ApiClient } from './api-client';
import type { RunDetail } from './api-types';
import { runOutcome, type ExitCode } from './exit-codes';
import type { Output } from './output';
import { progressEvents, progressFrame } from './render';

export interface WatchOptions {
  /** Between two polls of the run's state. */
  intervalMs: number;
}

/** How long the API may stay unreachable (or without a worker: 503) before the watch gives up. */
const OUTAGE_TOLERANCE_MS = 120_000;

/**
 * Follows a run until it ends and returns its outcome as the exit status. On a terminal the
 * view is redrawn in place; otherwise each change is printed once as a plain line; with
 * `--output json` each changed state is one line of JSON (NDJSON), the last one the final state.
 */
export async function watchRun(client: ApiClient, runId: string, out: Output, options: WatchOptions): Promise<ExitCode> {
  const path = `/v1/runs/${encodeURIComponent(runId)}`;
  let drawnLines = 0;
  let lastJson = '';
  const printed = new Map<string, string>();
  let unreachableSince: number | undefined;

  for (;;) {
    let run: RunDetail;
    try {
      run = await client.get<RunDetail>(path);
      unreachableSince = undefined;
    } catch (error) {
      const transient = error instanceof ConnectionError || (error instanceof ApiError && error.status === 503);
      if (!transient) throw error;
      unreachableSince ??= Date.now();
      if (Date.now() - unreachableSince > OUTAGE_TOLERANCE_MS) throw error;
      await sleep(options.intervalMs);
      continue;
    }

    if (out.json) {
      const json = JSON.stringify(run);
      if (json !== lastJson) out.line(json);
      lastJson = json;
    } else if (out.isTty) {
      const frame = progressFrame(run);
      // Move up over the previous frame and clear it, then draw the new one.
      if (drawnLines > 0) out.raw(`\x1b[${drawnLines}F\x1b[0J`);
      out.raw(`${frame.join('\n')}\n`);
      drawnLines = frame.length;
    } else {
      for (const [key, line] of progressEvents(run)) {
        if (printed.get(key) !== line) out.line(line);
        printed.set(key, line);
      }
    }

    const outcome = runOutcome(run);
    if (outcome !== undefined) {
      if (!out.json) out.line(`run ${run.runId} ended: ${run.status}${run.error ? ` (${run.error})` : ''}`);
      return outcome;
    }
    await sleep(options.intervalMs);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
