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
  findRunbook,
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
import { InventoryService } from '../inventory/inventory.service';
import { MaintenanceService } from '../maintenance/maintenance.service';
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
    private readonly maintenance: MaintenanceService,
    private readonly inventory: InventoryService,
  ) {}

  async launch(principal: Principal, request: LaunchRequest): Promise<LaunchOutcome> {
    const def = findRunbook(request.runbook);
    if (!def) throw new NotFoundException(unknownRunbookMessage(request.runbook));
    const input = parseNested(def.inputSchema, request.input, ['input']);
    await this.inventory.refuseUnknownHosts(def.name, input);
    // Refuses an override by a non-admin and an unknown window; a closed window does not refuse.
    const waitsForWindow = await this.maintenance.admission(principal, def.name, input);
    const inputSha256 = inputDigest(input);
    const key = request.idempotencyKey;
    const runId = runWorkflowId(def.name, key ? sha256(`${principal.id}\n${key}`).slice(0, 32) : randomUUID());
    const args: RunbookStartArgs = { input, requestedBy: { id: principal.id, displayName: principal.displayName } };
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

  /** The run's own account of itself (status query), with Temporal's execution status. */
  async get(runId: string): Promise<RunDetail> {
    const { state, description } = await this.read(runId);
    return { ...state, temporalStatus: description.status.name };
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
      handle.executeUpdate(requestCancelUpdate, { args: [{ reason, principal: principalArg(principal) }] }),
    );
    await this.temporal.call('server', () => handle.cancel());
    return state;
  }

  async decide(
    runId: string,
    gateId: string,
    principal: Principal,
    decision: { decision: ApprovalDecisionValue; comment: string },
  ): Promise<GateRecord> {
    const handle = this.temporal.handle(runId, principal);
    return this.update(handle, () =>
      handle.executeUpdate(decideApprovalUpdate, {
        args: [{ gateId, decision: decision.decision, comment: decision.comment, principal: principalArg(principal) }],
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

/** What the workflow needs to judge the caller; the token hash never leaves the directory. */
export function principalArg(principal: Principal): Principal {
  return { id: principal.id, displayName: principal.displayName, roles: [...principal.roles] };
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** sha256 of the canonical JSON of a validated input: approvals, idempotent retries and schedules are bound to it. */
export function inputDigest(input: unknown): string {
  return sha256(canonicalJson(input));
}

/** JSON with object keys sorted, so the same input always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v ?? null)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
