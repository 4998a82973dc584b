import { PRE_APPROVAL_ASSERTION, assertionRefusal, parseAssertionKeys, preApprovalSignedArgs, type PreApproval } from '@runbooks/contracts';
import type { RunbookActivities } from '../types';
import type { PreApprovalStore } from './pre-approval-store';

export type PreApprovalActivities = Pick<RunbookActivities, 'claimPreApprovals'>;

/**
 * `assertionKeys` (RUNBOOKS_ASSERTION_KEYS): with them, an approval given ahead counts only if the
 * API signed it, for these very fields; one written into the store by other means is void. The
 * check runs here, not in workflow code, so its verdict is in history and replays the same after
 * the keys rotate. The approver's roles against the gate are checked by the run (approvals.ts).
 */
export function createPreApprovalActivities(store: PreApprovalStore, assertionKeys?: string): PreApprovalActivities {
  const keys = assertionKeys ? parseAssertionKeys(assertionKeys) : undefined;
  const unverified = (p: PreApproval): string | undefined => {
    if (!keys) return undefined;
    const principal = p.assertion?.principal ?? { id: p.by, displayName: p.displayName, roles: [] };
    const reason = assertionRefusal(keys, {
      update: PRE_APPROVAL_ASSERTION,
      args: { ...preApprovalSignedArgs(p), principal, assertion: p.assertion },
      nowMs: Date.now(),
      maxAgeMs: Number.POSITIVE_INFINITY, // given ahead on purpose: only the signature counts
    });
    if (reason) return `it is not vouched for by the API: ${reason}`;
    return principal.id === p.by ? undefined : `it was signed for ${principal.id}, not ${p.by}`;
  };
  return {
    /** A scheduled run at an approval gate claims the approvals given ahead for it. */
    claimPreApprovals: (input) => store.claim(input, unverified),
  };
}
