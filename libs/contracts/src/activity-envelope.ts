/**
 * Workflows cannot see how many attempts an activity took, yet a run's status must show it.
 * The worker wraps every activity so its result travels as `{ value, attempt }` and a failure
 * carries `{ attempt }` as its last detail; the step engine unwraps both.
 */
export interface AttemptEnvelope<T> {
  value: T;
  attempt: number;
}

export interface AttemptDetail {
  attempt: number;
}

export function isAttemptDetail(detail: unknown): detail is AttemptDetail {
  return typeof detail === 'object' && detail !== null && typeof (detail as AttemptDetail).attempt === 'number';
}

/** The enveloped form of an activity interface, as the workflow's proxy sees it. */
export type Enveloped<A> = {
  [K in keyof A]: A[K] extends (...args: infer P) => Promise<infer R> ? (...args: P) => Promise<AttemptEnvelope<R>> : never;
};
