import { ApplicationFailure, condition, isCancellation, log, patched, setHandler } from '@temporalio/workflow';
import {
  RejectionType,
  decideApprovalUpdate,
  hasAnyRole,
  type DecideApprovalArgs,
  type GateRecord,
  type PreApproval,
  type Role,
  type RunState,
} from '@runbooks/contracts';
import { describeError } from './activities';
import { now } from './clock';
import { sendEscalationNotice, type WaitHooks } from './escalation';
import { runMetrics } from './run-metrics';
import { verifyCaller } from './signing';

/** Marks runs that announce an approval gate when it opens. */
export const APPROVAL_NOTICE_PATCH = 'approval-requested-notice';

/**
 * Marks runs that upsert the search attributes once per decision, in the decision's own task and
 * only when it closes the gate (open() then does not upsert again as it returns): a decision that
 * leaves the gate pending changes none. Runs recorded before it upserted for every decision and again in open().
 */
export const DECISION_UPSERTS_ONCE_PATCH = 'approval-decision-upserts-once';

/** The policy of one approval gate. */
export interface ApprovalPolicy {
  allowedRoles: Role[];
  /** Distinct approvers needed (N of M); one rejection closes the gate. */
  requiredApprovals: number;
  /** How long each wait lasts: the first, and one more after each escalation. */
  timeoutMs: number;
  /** Who is told, tier by tier, when a wait ends undecided; after the last, the gate expires. */
  escalation: { tier: number; contact: string }[];
}

/**
 * Approval gates of one run. Decisions arrive as a Workflow Update whose validator refuses,
 * before anything enters history, a decision by the requester, by someone without the role,
 * a second decision by the same person, or one on a gate that is not pending.
 */
export class ApprovalGates {
  /** Set when a gate opens in a run that records DECISION_UPSERTS_ONCE_PATCH. */
  private decisionsUpsertOnce = false;
  /** Gates whose closing decision upserted the search attributes already. */
  private readonly closedByDecision = new Set<GateRecord>();

  constructor(
    private readonly state: RunState,
    private readonly hooks: WaitHooks,
  ) {
    setHandler(decideApprovalUpdate, (args) => this.decide(args), { validator: (args) => this.validate(args) });
  }

  async open(
    id: string,
    title: string,
    policy: ApprovalPolicy,
    inputSha256?: string,
    ahead: { approvals: PreApproval[]; voided: PreApproval[] } = { approvals: [], voided: [] },
  ): Promise<GateRecord> {
    const gate: GateRecord = {
      id,
      title,
      state: 'pending',
      allowedRoles: policy.allowedRoles,
      requiredApprovals: policy.requiredApprovals,
      openedAt: now(),
      decisions: [],
      escalations: [],
      inputSha256,
    };
    this.state.gates.push(gate);
    this.applyApprovalsGivenAhead(gate, ahead, policy.requiredApprovals);
    // Runs started before approval notices existed replay without one (patched: false).
    if (gate.state === 'pending' && patched(APPROVAL_NOTICE_PATCH)) void this.announce(gate, policy);
    // Asked when the gate opens, so its marker is recorded here and not in the decision's task (the approver waits on that one).
    if (gate.state === 'pending') this.decisionsUpsertOnce ||= patched(DECISION_UPSERTS_ONCE_PATCH);
    try {
      for (let wait = 0; ; wait++) {
        gate.deadline = new Date(Date.now() + policy.timeoutMs).toISOString();
        this.hooks.onChange();
        if (await condition(() => gate.state !== 'pending', policy.timeoutMs)) break;
        const next = policy.escalation[wait];
        runMetrics.slaBreached('approval', next ? String(next.tier) : 'none');
        if (!next) {
          gate.state = 'expired';
          gate.closedAt = now();
          break;
        }
        await this.escalate(gate, next, policy.timeoutMs);
      }
    } catch (error) {
      if (isCancellation(error) && gate.state === 'pending') {
        gate.state = 'cancelled';
        gate.closedAt = now();
      }
      throw error;
    } finally {
      gate.deadline = undefined;
      if (this.closedByDecision.delete(gate)) this.hooks.onRecord();
      else this.hooks.onChange();
    }
    return gate;
  }

  /** Approvals given ahead for a scheduled run count like decisions; void ones are noted. */
  private applyApprovalsGivenAhead(gate: GateRecord, ahead: { approvals: PreApproval[]; voided: PreApproval[] }, required: number): void {
    const voided = [...ahead.voided];
    for (const p of ahead.approvals) {
      if (p.by === this.state.requestedBy.id) continue; // never one's own request, ahead or not
      // The approver's roles as the API signed them (the worker verified the signature when claiming).
      if (p.assertion && !hasAnyRole(p.assertion.principal, gate.allowedRoles)) {
        voided.push({ ...p, voidedBecause: `${p.by} does not hold ${gate.allowedRoles.join(' or ')}` });
        continue;
      }
      gate.decisions.push({
        by: p.by,
        displayName: p.displayName,
        decision: 'approve',
        comment: `approved ahead at ${p.at}${p.comment ? `: ${p.comment}` : ''}`,
        at: p.at,
      });
    }
    gate.notes = voided.map((p) => `approval given ahead by ${p.displayName} at ${p.at} is void: ${p.voidedBecause ?? 'no reason'}`);
    if (gate.decisions.length >= required) {
      gate.state = 'approved';
      gate.closedAt = now();
    }
  }

  /**
   * Tells those who may decide that the gate waits for them (a chat notice offers Approve /
   * Reject buttons for `gateId`). Not awaited: the wait and its deadline start now, and a
   * notifier outage must not hold or decide the gate.
   */
  private async announce(gate: GateRecord, policy: ApprovalPolicy): Promise<void> {
    const { runId, title, requestedBy } = this.state;
    const deadline = new Date(Date.now() + policy.timeoutMs).toISOString();
    try {
      await this.hooks.notify({
        runId,
        recipients: policy.allowedRoles.map((role) => `role:${role}`),
        kind: 'approval-requested',
        subject: `Approval needed: ${gate.title} (${runId})`,
        text: `${title} ${runId} requested by ${requestedBy.displayName} waits for approval "${gate.title}": ${policy.requiredApprovals} approval(s) by ${policy.allowedRoles.join(' or ')}, before ${deadline}.`,
        fields: { gate: gate.id, requestedBy: requestedBy.id, deadline },
        gateId: gate.id,
        idempotencyKey: `${runId}/${gate.id}/approval-requested`,
      });
    } catch (error) {
      log.error('approval notice could not be delivered', { gate: gate.id, error: describeError(error) });
    }
  }

  private async escalate(gate: GateRecord, to: { tier: number; contact: string }, waitedMs: number): Promise<void> {
    const reason = `no decision within ${Math.round(waitedMs / 1000)} s`;
    gate.escalations.push({ tier: to.tier, contact: to.contact, at: now(), reason });
    await sendEscalationNotice(
      this.hooks,
      {
        runId: this.state.runId,
        recipients: [to.contact],
        kind: 'escalation',
        subject: `Approval overdue: ${gate.title} (${this.state.runId})`,
        text: `${this.state.title} ${this.state.runId} requested by ${this.state.requestedBy.displayName} waits for approval "${gate.title}": ${reason}. Escalated to tier ${to.tier} (${to.contact}).`,
        fields: { gate: gate.id, requestedBy: this.state.requestedBy.id, tier: String(to.tier) },
        idempotencyKey: `${this.state.runId}/${gate.id}/escalation-${to.tier}`,
      },
      `gate ${gate.id}`,
    );
  }

  private validate(args: DecideApprovalArgs): void {
    verifyCaller(decideApprovalUpdate.name, args);
    const { gateId, principal, inputSha256 } = args;
    const gate = this.state.gates.find((g) => g.id === gateId);
    if (!gate) {
      const known = this.state.steps.some((s) => s.id === gateId);
      throw ApplicationFailure.create({
        type: known ? RejectionType.conflict : RejectionType.notFound,
        message: known ? `approval gate ${gateId} is not open yet` : `run has no approval gate ${gateId}`,
      });
    }
    if (gate.state !== 'pending') {
      throw ApplicationFailure.create({ type: RejectionType.conflict, message: `approval gate ${gateId} is ${gate.state}, not pending` });
    }
    if (principal.id === this.state.requestedBy.id) {
      throw ApplicationFailure.create({
        type: RejectionType.forbidden,
        message: 'you requested this run; another person must decide its approvals',
      });
    }
    if (!hasAnyRole(principal, gate.allowedRoles)) {
      throw ApplicationFailure.create({
        type: RejectionType.forbidden,
        message: `approval gate ${gateId} needs one of the roles: ${gate.allowedRoles.join(', ')}`,
      });
    }
    if (inputSha256 && gate.inputSha256 && inputSha256 !== gate.inputSha256) {
      throw ApplicationFailure.create({
        type: RejectionType.conflict,
        message: `this decision was made for input ${inputSha256.slice(0, 12)}, but the run's input is ${gate.inputSha256.slice(0, 12)}: review the run again`,
      });
    }
    if (gate.decisions.some((d) => d.by === principal.id)) {
      throw ApplicationFailure.create({ type: RejectionType.conflict, message: `you already decided approval gate ${gateId}` });
    }
  }

  private decide({ gateId, decision, comment, principal }: DecideApprovalArgs): GateRecord {
    const gate = this.state.gates.find((g) => g.id === gateId) as GateRecord;
    gate.decisions.push({ by: principal.id, displayName: principal.displayName, decision, comment, at: now() });
    const approvals = gate.decisions.filter((d) => d.decision === 'approve').length;
    if (decision === 'reject') gate.state = 'rejected';
    else if (approvals >= gate.requiredApprovals) gate.state = 'approved';
    if (gate.state !== 'pending') gate.closedAt = now();
    // Either way the store's copy shows the decision before the approver is answered.
    if (this.decisionsUpsertOnce && gate.state === 'pending') {
      this.hooks.onRecord(); // N of M, still awaiting: no search attribute changes
    } else {
      if (this.decisionsUpsertOnce) this.closedByDecision.add(gate);
      this.hooks.onChange();
    }
    return gate;
  }
}
