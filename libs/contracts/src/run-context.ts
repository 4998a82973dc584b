/**
 * What a run tells each activity and child run it starts, in the Temporal header RUN_CONTEXT_HEADER
 * (workflows/src/interceptors.ts): for the worker's log lines and metric labels, never for a decision.
 */
export interface RunContext {
  /** The run's principal: its requester's id. */
  principal?: string;
  /**
   * The catalog runbook the work belongs to (`security-patching`): the run's own, or for a part of
   * a run that is no runbook itself (a fleet campaign's batch) its campaign's.
   */
  runbook?: string;
}

export const RUN_CONTEXT_HEADER = 'runbooks-run';
