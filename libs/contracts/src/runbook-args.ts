/** The one argument every runbook workflow takes. The API validated `input` with the runbook's schema. */
export interface RunbookStartArgs<I = unknown> {
  input: I;
  requestedBy: { id: string; displayName: string };
  /** sha256 of the validated input as the API saw it; approval gates are bound to it. */
  inputSha256?: string;
  /** Who launched it, with their roles, as the API vouches for in `assertion`. */
  principal?: import('./principal').Principal;
  /** The API's signed word on the launcher (see assertion.ts); checked when the input sets restricted fields. */
  assertion?: import('./assertion').CallerAssertion;
  /** Set when a schedule started the run. */
  scheduleId?: string;
  /** Set by the run itself when it continues as new: its state so far and where to go on. */
  carried?: { state: import('./run-state').RunState; cursor: unknown };
}

/** Memo keys the API sets at start, read back when a launch is retried with the same idempotency key. */
export const RUN_MEMO = {
  inputSha256: 'inputSha256',
  idempotencyKey: 'idempotencyKey',
} as const;
