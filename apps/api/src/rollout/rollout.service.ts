import { ConflictException, Injectable } from '@nestjs/common';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import {
  abortRolloutUpdate,
  pauseRolloutUpdate,
  resumeRolloutUpdate,
  setConcurrencyUpdate,
  skipHostUpdate,
  type Principal,
  type RolloutState,
} from '@runbooks/contracts';
import { RunsService, principalArg } from '../runs/runs.service';
import { TemporalService } from '../temporal/temporal.service';

/**
 * How the workflow SDK rejects an update the workflow has no handler for (it buffers it until the
 * end of the activation, then rejects it as ApplicationFailure "No registered handler for update: <name>").
 */
const UNKNOWN_UPDATE = /no registered handler for update|unknown update/i;

export function isUnknownUpdate(error: unknown): boolean {
  return error instanceof WorkflowUpdateFailedError && error.cause instanceof Error && UNKNOWN_UPDATE.test(error.cause.message);
}

/**
 * Operator steering of a fleet rollout: each call is an update of the run (validated by the run:
 * technician role, rollout not over), sent as the caller so history names who did it.
 */
@Injectable()
export class RolloutService {
  constructor(
    private readonly temporal: TemporalService,
    private readonly runs: RunsService,
  ) {}

  pause(runId: string, principal: Principal, body: { reason: string }): Promise<RolloutState> {
    return this.steer(runId, principal, (handle, who) => handle.executeUpdate(pauseRolloutUpdate, { args: [{ principal: who, ...body }] }));
  }

  resume(runId: string, principal: Principal, body: { reason: string }): Promise<RolloutState> {
    return this.steer(runId, principal, (handle, who) =>
      handle.executeUpdate(resumeRolloutUpdate, { args: [{ principal: who, ...body }] }),
    );
  }

  setConcurrency(runId: string, principal: Principal, body: { concurrency: number }): Promise<RolloutState> {
    return this.steer(runId, principal, (handle, who) =>
      handle.executeUpdate(setConcurrencyUpdate, { args: [{ principal: who, ...body }] }),
    );
  }

  skipHost(runId: string, principal: Principal, body: { host: string; reason: string }): Promise<RolloutState> {
    return this.steer(runId, principal, (handle, who) => handle.executeUpdate(skipHostUpdate, { args: [{ principal: who, ...body }] }));
  }

  abort(runId: string, principal: Principal, body: { reason: string; rollback: boolean }): Promise<RolloutState> {
    return this.steer(runId, principal, (handle, who) => handle.executeUpdate(abortRolloutUpdate, { args: [{ principal: who, ...body }] }));
  }

  private async steer(
    runId: string,
    principal: Principal,
    send: (handle: WorkflowHandle, principal: Principal) => Promise<RolloutState>,
  ): Promise<RolloutState> {
    const handle = this.temporal.handle(runId, principal);
    try {
      return await this.runs.update(handle, () => send(handle, principalArg(principal)));
    } catch (error) {
      // A run of another runbook has no steering handlers: that is about the request, not a bug.
      if (isUnknownUpdate(error)) throw new ConflictException(`run ${runId} is not a fleet rollout`);
      throw error;
    }
  }
}
