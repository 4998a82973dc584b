import {
  ASSERTION_CONFIG_GLOBAL,
  RejectionType,
  assertionRefusal,
  parseAssertionKeys,
  type AssertionConfig,
  type AssertionKey,
  type CallerAssertion,
  type Principal,
} from '@runbooks/contracts';
import { refusal } from './escalation';

let parsed: { text: string; keys: AssertionKey[] } | undefined;

/** The keys the worker set before the bundle ran; undefined when it has none (then nothing is verified). */
function assertionConfig(): { keys: AssertionKey[]; maxAgeMs: number } | undefined {
  const config = (globalThis as Record<string, unknown>)[ASSERTION_CONFIG_GLOBAL] as AssertionConfig | undefined;
  if (!config) return undefined;
  if (parsed?.text !== config.keys) parsed = { text: config.keys, keys: parseAssertionKeys(config.keys) };
  return { keys: parsed.keys, maxAgeMs: config.maxAgeMs };
}

/**
 * Refuses, in an Update validator, a principal the API did not vouch for: no assertion, an
 * unknown key, a wrong signature, another Update or other arguments, or a stale one. Validators
 * cannot call activities, so the HMAC is computed here in plain code (contracts/sha256.ts).
 */
export function verifyCaller(update: string, args: { principal: Principal; assertion?: CallerAssertion }): void {
  const config = assertionConfig();
  if (!config) return;
  const reason = assertionRefusal(config.keys, {
    update,
    args: args as unknown as Parameters<typeof assertionRefusal>[1]['args'],
    nowMs: Date.now(),
    maxAgeMs: config.maxAgeMs,
  });
  if (reason) throw refusal(RejectionType.forbidden, reason);
}
