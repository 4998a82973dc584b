import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdReusePolicy,
  WorkflowNotFoundError,
  type WorkflowExecutionDescription,
  type WorkflowHandle,
} from '@temporalio/client';
import { Store } from '@runbooks/store';
import {
  AwaitingApprovalAttr,
  RUN_MEMO,
  RequestedByAttr,
  RunStatusAttr,
  RunbookNameAttr,
  decideApprovalUpdate,
  canonicalJson,
  findRunbook,
  hostRecordOf,
  launchAssertionName,
  requestCancelUpdate,
  runStateQuery,
  runStatusSchema,
  runWorkflowId,
  type ApprovalDecisionValue,
  type GateRecord,
  type Principal,
  type RunState,
  type RunbookStartArgs,
} from '@runbooks/contracts';
import { createHash, randomUUID } from 'node:crypto';
import { unknownRunbookMessage } from '../catalog/catalog.routes';
import { parseNested } from '../http/route';
import { CallerAssertions, principalArg } from '../signing/caller-assertions';
import { RunAdmission } from './admission';
import { TemporalService } from '../temporal/temporal.service';
import type { LaunchedRun, RunDetail } from './runs.routes';

export interface LaunchRequest {
  runbook: string;
  input: unknown;
  idempotencyKey?: string;
}

export interface LaunchOutcome {
  run: LaunchedRun;
  /** False when an idempotent retry found the run it had started before. */
  created: boolean;
}

/** Runs as Temporal workflows: launch, read the state, cancel, decide approvals. */
@Injectable()
export class RunsService {
  constructor(
    private readonly store: Store,
    private readonly temporal: TemporalService,
    private readonly admission: RunAdmission,
    private readonly assertions: CallerAssertions,
  ) {}

  async launch(principal: Principal, request: LaunchRequest): Promise<LaunchOutcome> {
    const def = findRunbook(request.runbook);
    if (!def) throw new NotFoundException(unknownRunbookMessage(request.runbook));
    const input = parseNested(def.inputSchema, request.input, ['input']);
    // The runbook's admission rules: fields the caller may not set, unknown hosts, an unknown window (a closed one does not refuse).
    const waitsForWindow = await this.admission.admit(principal, def, input);
    const inputSha256 = inputDigest(input);
    const key = request.idempotencyKey;
    const runId = runWorkflowId(def.name, key ? sha256(`${principal.id}\n${key}`).slice(0, 32) : randomUUID());
    // The hash travels to the run, whose approval gates refuse a decision made for another input.
    // Signed: a run whose input sets restricted fields (e.g. windowOverride) checks its launcher's roles itself.
    const args: RunbookStartArgs = this.assertions.args({ name: launchAssertionName(def.workflowType) }, principal, {
      input,
      requestedBy: { id: principal.id, displayName: principal.displayName },
      inputSha256,
    });
    const client = this.temporal.clientFor(principal);
    try {
      await this.temporal.call('server', () =>
        client.workflow.start(def.workflowType, {
          taskQueue: this.temporal.taskQueue,
          workflowId: runId,
          args: [args],
          // A key names one run for good: even after it ended, a retry finds it rather than starting another.
          workflowIdReusePolicy: key ? WorkflowIdReusePolicy.REJECT_DUPLICATE : undefined,
          typedSearchAttributes: [
            { key: RunbookNameAttr, value: def.name },
            { key: RequestedByAttr, value: principal.id },
            { key: RunStatusAttr, value: 'running' },
            { key: AwaitingApprovalAttr, value: false },
          ],
          memo: { [RUN_MEMO.inputSha256]: inputSha256, ...(key ? { [RUN_MEMO.idempotencyKey]: key } : {}) },
        }),
      );
      return { run: launchedRun(runId, def.name, 'running', waitsForWindow), created: true };
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError) || !key) throw error;
    }
    const existing = await this.describe(client.workflow.getHandle(runId));
    if (existing.memo?.[RUN_MEMO.inputSha256] !== inputSha256) {
      throw new ConflictException('idempotencyKey was already used with a different input');
    }
    const status = runStatusSchema.safeParse(existing.typedSearchAttributes.get(RunStatusAttr));
    return { run: launchedRun(runId, def.name, status.success ? status.data : 'running', waitsForWindow), created: false };
  }

  /**
   * The run's account of itself with Temporal's execution status: from the store's copy the run
   * keeps current (no worker asked), or `live` (and for runs without a copy) from its status query.
   */
  async get(runId: string, live = false): Promise<RunDetail> {
    const handle = this.temporal.handle(runId);
    // Asked at once, beside the copy: only the server sees a run terminated from outside or timed out.
    const describing = this.describe(handle);
    describing.catch(() => undefined); // awaited below, whichever way the state comes
    const copy = live ? undefined : await this.store.runStatus.get(runId);
    const [description, state] = await Promise.all([
      describing,
      copy ? (JSON.parse(copy.body) as RunState) : this.temporal.call('worker', () => handle.query(runStateQuery)),
    ]);
    const inputSha256 = description.memo?.[RUN_MEMO.inputSha256];
    return { ...state, temporalStatus: description.status.name, inputSha256: typeof inputSha256 === 'string' ? inputSha256 : null };
  }

  /**
   * The run state alone, as the report shows it: from the run while Temporal has it, else the
   * report the run wrote into the store at its end (kept past the namespace's retention).
   */
  async state(runId: string): Promise<RunState> {
    try {
      return (await this.read(runId)).state;
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError)) throw error;
      const stored = await this.store.reports.get(runId);
      if (!stored) throw error;
      return JSON.parse(stored.body) as RunState;
    }
  }

  /** The run state with every host's record (from the store, for runs that keep them there): the report's content. */
  async reportState(runId: string): Promise<RunState> {
    const state = await this.state(runId);
    if (!state.rollout?.counts) return state;
    const hosts = (await this.store.runHosts.all(runId)).map(hostRecordOf);
    return { ...state, rollout: { ...state.rollout, hosts } };
  }

  private async read(runId: string): Promise<{ state: RunState; description: WorkflowExecutionDescription }> {
    const handle = this.temporal.handle(runId);
    const [description, state] = await Promise.all([
      this.describe(handle),
      this.temporal.call('worker', () => handle.query(runStateQuery)),
    ]);
    return { state, description };
  }

  async cancel(runId: string, principal: Principal, reason: string): Promise<RunState> {
    const handle = this.temporal.handle(runId, principal);
    const state = await this.update(handle, () =>
      handle.executeUpdate(requestCancelUpdate, { args: [this.assertions.args(requestCancelUpdate, principal, { reason })] }),
    );
    await this.temporal.call('server', () => handle.cancel());
    return state;
  }

  async decide(
    runId: string,
    gateId: string,
    principal: Principal,
    decision: { decision: ApprovalDecisionValue; comment: string; inputSha256?: string },
  ): Promise<GateRecord> {
    const handle = this.temporal.handle(runId, principal);
    const { inputSha256 } = decision;
    return this.update(handle, () =>
      handle.executeUpdate(decideApprovalUpdate, {
        args: [
          this.assertions.args(decideApprovalUpdate, principal, {
            gateId,
            decision: decision.decision,
            comment: decision.comment,
            ...(inputSha256 ? { inputSha256 } : {}),
          }),
        ],
      }),
    );
  }

  /** Describes a run; a workflow that is not a runbook run is "not found" too. */
  private async describe(handle: WorkflowHandle): Promise<WorkflowExecutionDescription> {
    const description = await this.temporal.call('server', () => handle.describe());
    if (description.typedSearchAttributes.get(RunbookNameAttr) === undefined) {
      throw new WorkflowNotFoundError('not a runbook run', handle.workflowId, undefined);
    }
    return description;
  }

  /**
   * Sends an update under the worker deadline (503 when no worker answers). An update on a run
   * that has already closed is a conflict, not "not found".
   */
  async update<T>(handle: WorkflowHandle, send: () => Promise<T>): Promise<T> {
    try {
      return await this.temporal.call('worker', send);
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError)) throw error;
      const description = await this.describe(handle);
      if (description.status.name === 'RUNNING') throw error;
      throw new ConflictException(`run ${handle.workflowId} has already ended (${description.status.name.toLowerCase()})`);
    }
  }
}

function launchedRun(
  runId: string,
  runbook: string,
  status: LaunchedRun['status'],
  waitsForWindow?: LaunchedRun['waitsForWindow'],
): LaunchedRun {
  const self = `/v1/runs/${encodeURIComponent(runId)}`;
  return { runId, runbook, status, links: { self, report: `${self}/report` }, ...(waitsForWindow ? { waitsForWindow } : {}) };
}

/** Kept here for the callers that import it from runs; it lives beside the assertion signer. */
export { principalArg };

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** sha256 of the canonical JSON of a validated input: approvals, idempotent retries and schedules are bound to it. */
export function inputDigest(input: unknown): string {
  return sha256(canonicalJson(input));
}

/** Kept here for the callers that import it from the API; it lives in contracts, where the workflow uses it too. */
export { canonicalJson };
