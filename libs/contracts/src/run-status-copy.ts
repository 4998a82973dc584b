import type { Sinks } from '@temporalio/workflow';
import type { RunState } from './run-state';

/**
 * A run hands its state to its worker whenever it changes, through a sink: no history event, and
 * not again on replay. The worker keeps the store's copy (the run_status table), which
 * GET /v1/runs/{id} reads without asking a worker; `?live=true` still asks the run itself.
 */
export interface RunStatusSinks extends Sinks {
  runStatus: {
    /** `version` orders the copies of one run (runStatusVersion): a late write never replaces a newer one. */
    publish(state: RunState, version: string): void;
  };
}

/**
 * Sorts as the run goes on: its continue-as-new generation, then its history length when it
 * published, then the publication's number within that workflow task.
 */
export function runStatusVersion(continuedAsNew: number, historyLength: number, seq: number): string {
  return [continuedAsNew, historyLength, seq].map((n) => String(n).padStart(10, '0')).join(':');
}
