import { ApplicationFailure, condition, isCancellation, setHandler } from '@temporalio/workflow';
import {
  RejectionType,
  SUPPORT_TIERS,
  checkEvidence,
  claimTaskUpdate,
  completeTaskUpdate,
  escalationLadder,
  hasAnyRole,
  hasRole,
  reassignTaskUpdate,
  releaseTaskUpdate,
  unsupportedKeywords,
  type JsonSchema,
  type Principal,
  type Role,
  type RunState,
  type TaskRecord,
} from '@runbooks/contracts';
import { now } from './clock';
import { refusal, sendEscalationNotice, type WaitHooks } from './escalation';
import { runMetrics } from './run-metrics';
import { verifyCaller } from './signing';

/** A run fails with this when a runbook declares a task the engine cannot enforce. */
export const INVALID_TASK = 'InvalidTaskDefinition';

/** One human task of a runbook: what to do, who does it, what they must give back, how long each tier has. */
export interface TaskSpec {
  title: string;
  /** What the person is to do (Markdown); shown in GET /v1/tasks. */
  instructions: string;
  /** The role or support tier (tier1, tier2, tier3) the task starts with. */
  assignee: Role;
  /** The evidence form as JSON Schema (z.toJSONSchema of the runbook's zod schema in libs/contracts). */
  evidence: JsonSchema;
  /** Each tier's time to complete it; at each deadline the task passes to the next tier (see escalationLadder). */
  slaMs?: number;
}

/**
 * Human tasks of one run. The run waits while a person claims the task, does it and completes it
 * with evidence. Each action is a Workflow Update whose validator refuses, before anything enters
 * history, a caller without an eligible role (forbidden), an action the task's state does not
 * allow (conflict) and evidence that does not fit the form (invalid, naming the field).
 */
export class HumanTasks {
  private readonly tasks: TaskRecord[];

  constructor(
    private readonly state: RunState,
    private readonly hooks: WaitHooks,
  ) {
    this.tasks = state.tasks ??= [];
    setHandler(claimTaskUpdate, ({ taskId, principal }) => this.act(taskId, principal, 'claim', (t) => this.claimFor(t, principal)), {
      validator: (args) => {
        verifyCaller(claimTaskUpdate.name, args);
        const task = this.actionable(args.taskId, args.principal);
        if (task.claimedBy)
          throw refusal(RejectionType.conflict, `task ${args.taskId} is already claimed by ${task.claimedBy.displayName}`);
      },
    });
    setHandler(
      releaseTaskUpdate,
      ({ taskId, principal, comment }) =>
        this.act(taskId, principal, 'release', (t) => {
          t.claimedBy = undefined;
          t.state = 'open';
          return comment;
        }),
      {
        validator: (args) => {
          verifyCaller(releaseTaskUpdate.name, args);
          const { taskId, principal } = args;
          const task = this.found(taskId);
          if (!task.claimedBy) throw refusal(RejectionType.conflict, `task ${taskId} is not claimed`);
          if (task.claimedBy.id !== principal.id && !hasRole(principal, 'admin')) {
            throw refusal(
              RejectionType.forbidden,
              `task ${taskId} is claimed by ${task.claimedBy.displayName}; only they (or an admin) may release it`,
            );
          }
        },
      },
    );
    setHandler(
      reassignTaskUpdate,
      ({ taskId, principal, to, comment }) =>
        this.act(taskId, principal, 'reassign', (t) => {
          t.claimedBy = { ...to, at: now() };
          t.state = 'claimed';
          return `to ${to.displayName} (${to.id})${comment ? `: ${comment}` : ''}`;
        }),
      {
        validator: (args) => {
          verifyCaller(reassignTaskUpdate.name, args);
          this.actionable(args.taskId, args.principal);
        },
      },
    );
    setHandler(
      completeTaskUpdate,
      ({ taskId, principal, evidence, comment }) =>
        this.act(taskId, principal, 'complete', (t) => {
          t.evidence = evidence;
          t.completedBy = { id: principal.id, displayName: principal.displayName };
          t.state = 'done';
          t.closedAt = now();
          t.deadline = undefined;
          closeHold(t);
          return comment;
        }),
      {
        validator: (args) => {
          verifyCaller(completeTaskUpdate.name, args);
          const { taskId, principal, evidence } = args;
          const task = this.actionable(taskId, principal);
          if (task.claimedBy?.id !== principal.id) {
            throw refusal(
              RejectionType.conflict,
              task.claimedBy ? `task ${taskId} is claimed by ${task.claimedBy.displayName}` : `claim task ${taskId} before completing it`,
            );
          }
          const issues = checkEvidence(task.evidenceSchema, evidence);
          if (issues.length > 0) {
            throw refusal(
              RejectionType.invalid,
              `the evidence does not fit the form: ${issues.map((i) => `${i.path || '(evidence)'}: ${i.message}`).join('; ')}`,
              { issues: issues.map((i) => ({ path: i.path ? `evidence.${i.path}` : 'evidence', message: i.message })) },
            );
          }
        },
      },
    );
  }

  /** Opens the task (or takes up the one carried over continue-as-new) and waits until it is done. */
  async open(id: string, spec: TaskSpec): Promise<TaskRecord> {
    const unsupported = unsupportedKeywords(spec.evidence);
    if (unsupported.length > 0) {
      throw ApplicationFailure.create({
        type: INVALID_TASK,
        nonRetryable: true,
        message: `task ${id}: the evidence form uses what the checker cannot enforce: ${unsupported.join(', ')}`,
      });
    }
    const ladder = escalationLadder(spec.assignee);
    let task = this.tasks.find((t) => t.id === id);
    if (!task) {
      const openedAt = now();
      task = {
        id,
        title: spec.title,
        instructions: spec.instructions,
        state: 'open',
        assignedRole: spec.assignee,
        eligibleRoles: [spec.assignee],
        openedAt,
        overdue: false,
        evidenceSchema: spec.evidence,
        escalations: [],
        holds: [{ role: spec.assignee, from: openedAt }],
        events: [],
      };
      this.tasks.push(task);
    }
    const record = task;
    const finished = () => record.state === 'done' || record.state === 'cancelled';
    try {
      for (let level = ladder.indexOf(record.assignedRole as Role); !finished(); level++) {
        const next = ladder[level + 1];
        if (spec.slaMs === undefined) {
          this.hooks.onChange();
          await condition(finished);
          break;
        }
        record.deadline = new Date(Date.now() + spec.slaMs).toISOString();
        this.hooks.onChange();
        if (await condition(finished, spec.slaMs)) break;
        record.overdue = true;
        runMetrics.slaBreached('task', next ? String(supportTier(next)) : 'none');
        if (!next) {
          // The last line has it: nobody above to pass it to, so it stays there, marked overdue.
          record.deadline = undefined;
          this.hooks.onChange();
          await condition(finished);
          break;
        }
        await this.escalate(record, next, spec.slaMs);
      }
    } catch (error) {
      if (isCancellation(error) && !finished()) {
        record.state = 'cancelled';
        record.closedAt = now();
        record.deadline = undefined;
        closeHold(record);
      }
      throw error;
    } finally {
      this.hooks.onChange();
    }
    return record;
  }

  private async escalate(task: TaskRecord, to: Role, waitedMs: number): Promise<void> {
    const at = now();
    const reason = `not done within ${Math.round(waitedMs / 1000)} s by ${task.assignedRole}`;
    const tier = supportTier(to);
    closeHold(task, at);
    task.holds.push({ role: to, from: at });
    task.escalations.push({ tier, contact: to, at, reason });
    task.assignedRole = to;
    task.eligibleRoles.push(to);
    this.hooks.onChange();
    await sendEscalationNotice(
      this.hooks,
      {
        runId: this.state.runId,
        recipients: [to],
        kind: 'escalation',
        subject: `Task overdue: ${task.title} (${this.state.runId})`,
        text: `${this.state.title} ${this.state.runId} waits for the task "${task.title}": ${reason}. It is now with ${to}${task.claimedBy ? ` (claimed by ${task.claimedBy.displayName})` : ''}.`,
        fields: { task: task.id, tier: String(tier), requestedBy: this.state.requestedBy.id },
        idempotencyKey: `${this.state.runId}/${task.id}/escalation-${to}`,
      },
      `task ${task.id}`,
    );
  }

  private claimFor(task: TaskRecord, principal: Principal): undefined {
    task.claimedBy = { id: principal.id, displayName: principal.displayName, at: now() };
    task.state = 'claimed';
    return undefined;
  }

  private act(
    taskId: string,
    principal: Principal,
    action: TaskRecord['events'][number]['action'],
    change: (task: TaskRecord) => string | undefined,
  ) {
    const task = this.found(taskId);
    const detail = change(task);
    task.events.push({ at: now(), by: principal.id, action, ...(detail ? { detail } : {}) });
    this.hooks.onChange();
    return task;
  }

  /** A task that is open or claimed, and a caller holding one of its roles. */
  private actionable(taskId: string, principal: Principal): TaskRecord {
    const task = this.found(taskId);
    if (!hasAnyRole(principal, task.eligibleRoles as Role[])) {
      throw refusal(RejectionType.forbidden, `task ${taskId} needs one of the roles: ${task.eligibleRoles.join(', ')}`);
    }
    return task;
  }

  private found(taskId: string): TaskRecord {
    const task = this.tasks.find((t) => t.id === taskId);
    if (!task) {
      const known = this.state.steps.some((s) => s.id === taskId);
      throw refusal(
        known ? RejectionType.conflict : RejectionType.notFound,
        known ? `task ${taskId} is not open yet` : `run has no task ${taskId}`,
      );
    }
    if (task.state === 'done' || task.state === 'cancelled') throw refusal(RejectionType.conflict, `task ${taskId} is ${task.state}`);
    return task;
  }
}

function closeHold(task: TaskRecord, at = now()): void {
  const current = task.holds.at(-1);
  if (current && !current.until) current.until = at;
}

/** The support tier's number (tier1 is 1), as escalation notices and the SLA metric name it; 0 for a role outside the tiers. */
function supportTier(role: Role): number {
  return (SUPPORT_TIERS as readonly Role[]).indexOf(role) + 1;
}
