/** Workflow time as ISO text: deterministic, replayed as it was. */
export function now(): string {
  return new Date().toISOString();
}
