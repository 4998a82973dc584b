/** The one argument every runbook workflow takes. The API validated `input` with the runbook's schema. */
export interface RunbookStartArgs<I = unknown> {
  input: I;
  requestedBy: { id: string; displayName: string };
  /** Set when a schedule started the run. */
  scheduleId?: string;
}

/** Memo keys the API sets at start, read back when a launch is retried with the same idempotency key. */
export const RUN_MEMO = {
  inputSha256: 'inputSha256',
  idempotencyKey: 'idempotencyKey',
} as const;
