import { Injectable } from '@nestjs/common';
import { ApplicationFailure, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import {
  RejectionType,
  claimTaskUpdate,
  completeTaskUpdate,
  hasAnyRole,
  reassignTaskUpdate,
  releaseTaskUpdate,
  type Principal,
  type Role,
  type RunState,
  type TaskRecord,
} from '@runbooks/contracts';
import { RequestValidationError } from '../http/errors';
import { RunListing } from '../runs/run-listing';
import { RunsService } from '../runs/runs.service';
import { CallerAssertions } from '../signing/caller-assertions';
import { TemporalService } from '../temporal/temporal.service';
import type { ListTasksQuery, OpenTask } from './tasks.routes';

/** How many runs with open tasks one listing looks at. */
const MAX_RUNS = 500;

/**
 * Human tasks: listed from the runs that wait on them (AwaitingTask search attribute, then each
 * run's own state), acted on through Workflow Updates the run validates, sent as the caller.
 */
@Injectable()
export class TasksService {
  constructor(
    private readonly temporal: TemporalService,
    private readonly listing: RunListing,
    private readonly runs: RunsService,
    private readonly assertions: CallerAssertions,
  ) {}

  async list(principal: Principal, query: ListTasksQuery): Promise<OpenTask[]> {
    const states = await this.listing.states({ awaitingTask: true, openOnly: true }, MAX_RUNS);
    return states.flatMap((state) => openTasks(state).filter((task) => matches(task, principal, query)));
  }

  claim(runId: string, taskId: string, principal: Principal): Promise<TaskRecord> {
    return this.act(runId, principal, (handle) =>
      handle.executeUpdate(claimTaskUpdate, { args: [this.assertions.args(claimTaskUpdate, principal, { taskId })] }),
    );
  }

  release(runId: string, taskId: string, principal: Principal, body: { comment?: string }): Promise<TaskRecord> {
    return this.act(runId, principal, (handle) =>
      handle.executeUpdate(releaseTaskUpdate, {
        args: [this.assertions.args(releaseTaskUpdate, principal, { taskId, comment: body.comment })],
      }),
    );
  }

  reassign(
    runId: string,
    taskId: string,
    principal: Principal,
    body: { to: string; toDisplayName?: string; comment?: string },
  ): Promise<TaskRecord> {
    const to = { id: body.to, displayName: body.toDisplayName ?? body.to };
    return this.act(runId, principal, (handle) =>
      handle.executeUpdate(reassignTaskUpdate, {
        args: [this.assertions.args(reassignTaskUpdate, principal, { taskId, to, comment: body.comment })],
      }),
    );
  }

  complete(
    runId: string,
    taskId: string,
    principal: Principal,
    body: { evidence: Record<string, unknown>; comment?: string },
  ): Promise<TaskRecord> {
    return this.act(runId, principal, (handle) =>
      handle.executeUpdate(completeTaskUpdate, {
        args: [this.assertions.args(completeTaskUpdate, principal, { taskId, evidence: body.evidence, comment: body.comment })],
      }),
    );
  }

  private async act(runId: string, principal: Principal, send: (handle: WorkflowHandle) => Promise<TaskRecord>): Promise<TaskRecord> {
    const handle = this.temporal.handle(runId, principal);
    try {
      return await this.runs.update(handle, () => send(handle));
    } catch (error) {
      throw evidenceRefusal(error) ?? error;
    }
  }
}

/** Evidence the run refused is a 400 whose issues name each field, like any other invalid body. */
function evidenceRefusal(error: unknown): RequestValidationError | undefined {
  if (!(error instanceof WorkflowUpdateFailedError) || !(error.cause instanceof ApplicationFailure)) return undefined;
  if (error.cause.type !== RejectionType.invalid) return undefined;
  const issues = (error.cause.details?.[0] as { issues?: { path: string; message: string }[] } | undefined)?.issues ?? [];
  return new RequestValidationError(
    'request body',
    issues.map((i) => ({ path: i.path.split('.'), message: i.message })),
  );
}

export function openTasks(state: RunState): OpenTask[] {
  return (state.tasks ?? [])
    .filter((task) => task.state === 'open' || task.state === 'claimed')
    .map((task) => ({
      runId: state.runId,
      runbook: state.runbook,
      taskId: task.id,
      requestedBy: state.requestedBy,
      title: task.title,
      instructions: task.instructions,
      state: task.state,
      assignedRole: task.assignedRole,
      eligibleRoles: task.eligibleRoles,
      claimedBy: task.claimedBy,
      openedAt: task.openedAt,
      deadline: task.deadline,
      overdue: task.overdue,
      escalations: task.escalations,
      evidenceForm: task.evidenceSchema,
    }));
}

export function matches(task: OpenTask, principal: Principal, query: ListTasksQuery): boolean {
  if (query.mine && task.claimedBy?.id !== principal.id) return false;
  if (query.myRoles && !hasAnyRole(principal, task.eligibleRoles as Role[])) return false;
  if (query.state === 'unclaimed' && task.state !== 'open') return false;
  if (query.state === 'claimed' && task.state !== 'claimed') return false;
  if (query.overdue !== undefined && task.overdue !== query.overdue) return false;
  return true;
}
