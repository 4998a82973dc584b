import { Injectable } from '@nestjs/common';
import { hasAnyRole, type Principal, type RunState } from '@runbooks/contracts';
import { RunListing } from '../runs/run-listing';
import type { PendingApproval } from './approvals.routes';

/** How many waiting runs one listing looks at. */
const MAX_RUNS = 500;

@Injectable()
export class ApprovalsService {
  constructor(private readonly listing: RunListing) {}

  /** Visibility finds the runs waiting for approval; each run's own state says which gates and who decided. */
  async pendingFor(principal: Principal): Promise<PendingApproval[]> {
    const states = await this.listing.states({ awaitingApproval: true, openOnly: true }, MAX_RUNS);
    return states.flatMap((state) => decidableGates(state, principal));
  }
}

export function decidableGates(state: RunState, principal: Principal): PendingApproval[] {
  if (state.requestedBy.id === principal.id) return [];
  return state.gates
    .filter((gate) => gate.state === 'pending')
    .filter((gate) => hasAnyRole(principal, gate.allowedRoles))
    .filter((gate) => !gate.decisions.some((d) => d.by === principal.id))
    .map((gate) => ({
      runId: state.runId,
      runbook: state.runbook,
      gateId: gate.id,
      title: gate.title,
      requestedBy: state.requestedBy,
      openedAt: gate.openedAt,
      deadline: gate.deadline,
      allowedRoles: gate.allowedRoles,
      requiredApprovals: gate.requiredApprovals,
      decisions: gate.decisions,
      inputSha256: gate.inputSha256,
    }));
}
