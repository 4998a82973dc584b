import { Injectable } from '@nestjs/common';
import { WorkflowNotFoundError } from '@temporalio/client';
import { hasAnyRole, runStateQuery, type Principal, type RunState } from '@runbooks/contracts';
import { RunListing } from '../runs/run-listing';
import { TemporalService } from '../temporal/temporal.service';
import type { PendingApproval } from './approvals.routes';

/** How many waiting runs one listing looks at, and how many it queries at once. */
const MAX_RUNS = 500;
const QUERY_CONCURRENCY = 8;

@Injectable()
export class ApprovalsService {
  constructor(
    private readonly temporal: TemporalService,
    private readonly listing: RunListing,
  ) {}

  /** Visibility finds the runs waiting for approval; each run's own state says which gates and who decided. */
  async pendingFor(principal: Principal): Promise<PendingApproval[]> {
    const runs = await this.listing.all({ awaitingApproval: true, openOnly: true }, MAX_RUNS);
    const states = await mapLimited(runs, QUERY_CONCURRENCY, async (run) => {
      try {
        return await this.temporal.call('worker', () => this.temporal.handle(run.runId).query(runStateQuery));
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) return undefined; // ended and gone since the listing
        throw error;
      }
    });
    return states.flatMap((state) => (state ? decidableGates(state, principal) : []));
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
    }));
}

async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  });
  await Promise.all(lanes);
  return results;
}
