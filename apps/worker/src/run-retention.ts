import type { NativeConnection } from '@temporalio/worker';

/**
 * Why the store's retention (RUNBOOKS_RUN_RETENTION_DAYS) may not be shorter than the namespace's:
 * a run Temporal still shows would have lost its status copy, host rows and report, and its report
 * would be served without its hosts. Undefined when it may (0 keeps runs for good).
 */
export function retentionRefusal(days: number, namespace: string, namespaceRetentionSeconds: number): string | undefined {
  if (days === 0 || days * 86_400 >= namespaceRetentionSeconds) return undefined;
  const namespaceDays = Math.ceil(namespaceRetentionSeconds / 86_400);
  return (
    `RUNBOOKS_RUN_RETENTION_DAYS=${days} is shorter than the retention of the Temporal namespace ${namespace} ` +
    `(${namespaceDays} days): set it to ${namespaceDays} or more (0 keeps ended runs for good)`
  );
}

/** Checked as the worker starts, against the namespace it polls. */
export async function assertRunRetention(connection: NativeConnection, namespace: string, days: number): Promise<void> {
  if (days === 0) return;
  const { config } = await connection.workflowService.describeNamespace({ namespace });
  const ttl = config?.workflowExecutionRetentionTtl;
  const refusal = retentionRefusal(days, namespace, Number(ttl?.seconds ?? 0));
  if (refusal) throw new Error(refusal);
}
