import type { temporal } from '@temporalio/proto';

/**
 * A history as searchable text: every payload's bytes decoded as UTF-8, so a test can prove
 * that a string (a secret, a refused decision) never entered it.
 */
export function historyText(history: temporal.api.history.v1.IHistory): string {
  const parts: string[] = [];
  const walk = (value: unknown): void => {
    if (value instanceof Uint8Array) parts.push(Buffer.from(value).toString('utf8'));
    else if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') Object.values(value).forEach(walk);
    else if (typeof value === 'string') parts.push(value);
  };
  walk(history);
  return parts.join('\n');
}

/** How many updates the workflow accepted into its history. */
export function acceptedUpdates(history: temporal.api.history.v1.IHistory): number {
  return (history.events ?? []).filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes).length;
}
