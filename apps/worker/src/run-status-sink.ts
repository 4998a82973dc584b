import type { InjectedSinks } from '@temporalio/worker';
import type { RunState, RunStatusSinks } from '@runbooks/contracts';

/** Where the worker keeps each run's status copy (the store's RunStatusRepository). */
export interface RunStatusCopies {
  put(runId: string, status: string, version: string, body: string): Promise<void>;
}

/**
 * The worker's side of the runStatus sink: writes the copy each run publishes into the store.
 * The SDK awaits sink calls before it completes the workflow task, so once an update's answer
 * (e.g. a pause) is out, its copy is in the store: a caller reads what it just did. A run publishes
 * at most once per activation; the writes of one run are coalesced (one at a time, the newest
 * waiting replaces any older one, e.g. when activations follow each other faster than the store writes). A copy lost (the store failed) is replaced by the run's
 * next one; readers who need the state as of now ask the run (GET /v1/runs/{id}?live=true).
 */
export function runStatusSinks(copies: RunStatusCopies, onError: (error: unknown) => void): InjectedSinks<RunStatusSinks> {
  const waiting = new Map<string, { state: RunState; version: string }>();
  const writing = new Map<string, Promise<void>>();
  /** Writes the newest copy waiting for the run, if an earlier write did not take it already. */
  const writeNewest = async (runId: string) => {
    const next = waiting.get(runId);
    if (!next) return;
    waiting.delete(runId);
    // Serialised here, once per write: a copy published meanwhile waits, and only the newest waiting is written.
    try {
      await copies.put(runId, next.state.status, next.version, JSON.stringify(next.state));
    } catch (error) {
      onError(error);
    }
  };
  return {
    runStatus: {
      publish: {
        fn(_info, state, version) {
          const runId = state.runId;
          waiting.set(runId, { state, version });
          // One write at a time per run, each after the one before.
          const done = (writing.get(runId) ?? Promise.resolve()).then(() => writeNewest(runId));
          writing.set(runId, done);
          void done.finally(() => writing.get(runId) === done && writing.delete(runId));
          return done;
        },
        // Replay re-runs what the run already published: its copies are in the store, or newer ones are.
        callDuringReplay: false,
      },
    },
  };
}
