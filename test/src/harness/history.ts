import type { Payload } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { testPayloadCodec } from './worker';

/**
 * A history as searchable text: every payload's bytes decoded as UTF-8 (decrypted with the tests'
 * codec key first, unless `decrypt` is false), so a test can prove that a string (a secret, a
 * refused decision) never entered it in any form.
 */
export function historyText(history: temporal.api.history.v1.IHistory, { decrypt = true } = {}): string {
  const codec = testPayloadCodec();
  const parts: string[] = [];
  const walk = (value: unknown): void => {
    if (decrypt && isPayload(value)) {
      const decoded = codec.decodeOne(value);
      if (decoded !== value) return walk(decoded);
    }
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

function isPayload(value: unknown): value is Payload {
  return typeof value === 'object' && value !== null && 'metadata' in value && 'data' in value;
}
