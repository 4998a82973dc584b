import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { Store } from '@runbooks/store';
import {
  abortRolloutUpdate,
  hostRecordOf,
  pauseRolloutUpdate,
  resumeRolloutUpdate,
  setConcurrencyUpdate,
  skipHostUpdate,
  type HostRecord,
  type Principal,
  type RolloutState,
} from '@runbooks/contracts';
import { RunsService } from '../runs/runs.service';
import { CallerAssertions } from '../signing/caller-assertions';
import { TemporalService } from '../temporal/temporal.service';
import type { RunHostPage, RunHostsQuery } from './rollout.routes';

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
    private readonly assertions: CallerAssertions,
    private readonly store: Store,
  ) {}

  /** A page of the run's host records from the store; runs from before the store kept them page their state. */
  async hosts(runId: string, query: RunHostsQuery): Promise<RunHostPage> {
    const { page, pageSize, state } = query;
    const offset = (page - 1) * pageSize;
    let found: { hosts: HostRecord[]; total: number };
    if (await this.store.runHosts.has(runId)) {
      const stored = await this.store.runHosts.page(runId, { state, offset, limit: pageSize });
      found = { hosts: stored.hosts.map(hostRecordOf), total: stored.total };
    } else {
      const rollout = (await this.runs.state(runId)).rollout; // 404 for no such run
      const all = rollout && !rollout.counts ? rollout.hosts.filter((h) => !state || h.state === state) : [];
      found = { hosts: all.slice(offset, offset + pageSize), total: all.length };
    }
    const pages = Math.ceil(found.total / pageSize);
    const next =
      page < pages
        ? `/v1/runs/${encodeURIComponent(runId)}/hosts?${new URLSearchParams({ ...(state ? { state } : {}), page: String(page + 1), pageSize: String(pageSize) })}`
        : null;
    return { runId, state: state ?? null, page, pageSize, total: found.total, pages, hosts: found.hosts, next };
  }

  pause(runId: string, principal: Principal, body: { reason: string }): Promise<RolloutState> {
    return this.steer(
      runId,
      (handle) => handle.executeUpdate(pauseRolloutUpdate, { args: [this.assertions.args(pauseRolloutUpdate, principal, body)] }),
      principal,
    );
  }

  resume(runId: string, principal: Principal, body: { reason: string }): Promise<RolloutState> {
    return this.steer(
      runId,
      (handle) => handle.executeUpdate(resumeRolloutUpdate, { args: [this.assertions.args(resumeRolloutUpdate, principal, body)] }),
      principal,
    );
  }

  setConcurrency(runId: string, principal: Principal, body: { concurrency: number }): Promise<RolloutState> {
    return this.steer(
      runId,
      (handle) => handle.executeUpdate(setConcurrencyUpdate, { args: [this.assertions.args(setConcurrencyUpdate, principal, body)] }),
      principal,
    );
  }

  async skipHost(runId: string, principal: Principal, body: { host: string; reason: string }): Promise<RolloutState> {
    // Runs that keep host records in the store: which hosts are pending is known here, not in the run.
    if (await this.store.runHosts.has(runId)) {
      const record = await this.store.runHosts.get(runId, body.host);
      if (!record) throw new NotFoundException(`host ${body.host} is not part of this rollout`);
      if (record.state !== 'pending') {
        throw new ConflictException(`host ${body.host} is already ${record.state}; only pending hosts can be skipped`);
      }
    }
    return this.steer(
      runId,
      (handle) => handle.executeUpdate(skipHostUpdate, { args: [this.assertions.args(skipHostUpdate, principal, body)] }),
      principal,
    );
  }

  abort(runId: string, principal: Principal, body: { reason: string; rollback: boolean }): Promise<RolloutState> {
    return this.steer(
      runId,
      (handle) => handle.executeUpdate(abortRolloutUpdate, { args: [this.assertions.args(abortRolloutUpdate, principal, body)] }),
      principal,
    );
  }

  /** Sends the update as the caller, with the API's signed word on who that is (the run's validators check it). */
  private async steer(runId: string, send: (handle: WorkflowHandle) => Promise<RolloutState>, principal: Principal): Promise<RolloutState> {
    const handle = this.temporal.handle(runId, principal);
    try {
      return await this.runs.update(handle, () => send(handle));
    } catch (error) {
      // A run of another runbook has no steering handlers: that is about the request, not a bug.
      if (isUnknownUpdate(error)) throw new ConflictException(`run ${runId} is not a fleet rollout`);
      throw error;
    }
  }
}
