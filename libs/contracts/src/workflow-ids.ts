/**
 * Run ids are Temporal workflow ids, safe to use as one URL path segment. With an idempotency
 * key the unique part is derived from the requester and the key, so a retried launch finds the
 * same run instead of starting another.
 */
export function runWorkflowId(runbook: string, uniquePart: string): string {
  return `${runbook}-${uniquePart}`;
}
