import { Inject, Injectable } from '@nestjs/common';
import { parseAssertionKeys, signAssertion, type AssertionKey, type CallerAssertion, type Principal } from '@runbooks/contracts';
import type { ApiConfig } from '../config';
import { API_CONFIG } from '../tokens';

/** What the workflow needs to judge the caller; the token hash never leaves the directory. */
export function principalArg(principal: Principal): Principal {
  return { id: principal.id, displayName: principal.displayName, roles: [...principal.roles] };
}

/**
 * Signs what the API asserts about the caller of an Update (who, with which roles, when, which
 * Update, which arguments) with the newest key of RUNBOOKS_ASSERTION_KEYS, so the run's validators
 * can tell the API's word from a principal written by anyone with Temporal access.
 */
@Injectable()
export class CallerAssertions {
  private readonly key?: AssertionKey;

  constructor(@Inject(API_CONFIG) config: ApiConfig) {
    this.key = config.assertionKeys ? parseAssertionKeys(config.assertionKeys)[0] : undefined;
  }

  /** The Update's arguments as sent: the caller's principal and, when the API holds a key, its signed assertion. */
  args<A extends object>(
    update: { name: string },
    principal: Principal,
    args: A,
  ): A & { principal: Principal; assertion?: CallerAssertion } {
    const sent = { ...args, principal: principalArg(principal) };
    if (!this.key) return sent;
    return { ...sent, assertion: signAssertion(this.key, update.name, principal, sent as Record<string, unknown>, new Date()) };
  }
}
