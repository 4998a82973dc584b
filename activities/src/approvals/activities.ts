import type { RunbookActivities } from '../types';
import type { PreApprovalStore } from './pre-approval-store';

export type PreApprovalActivities = Pick<RunbookActivities, 'claimPreApprovals'>;

export function createPreApprovalActivities(store: PreApprovalStore): PreApprovalActivities {
  return {
    /** A scheduled run at an approval gate claims the approvals given ahead for it. */
    claimPreApprovals: (input) => store.claim(input),
  };
}
