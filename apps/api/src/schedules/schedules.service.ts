import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ServiceError,
  type ScheduleDescription,
  type ScheduleHandle,
  type ScheduleOptionsStartWorkflowAction,
  type ScheduleSummary as TemporalScheduleSummary,
} from '@temporalio/client';
import type { Workflow } from '@temporalio/common';
import { optionalDateToTs, optionalTsToDate } from '@temporalio/common/lib/time';
import {
  AwaitingApprovalAttr,
  RUN_MEMO,
  RequestedByAttr,
  RunStatusAttr,
  RunbookNameAttr,
  ScheduleIdAttr,
  backfillScheduleSchema,
  createScheduleSchema,
  findRunbook,
  launchAssertionName,
  scheduleSpecSchema,
  type OverlapPolicy,
  type Principal,
  type RunbookDefinition,
  type RunbookStartArgs,
} from '@runbooks/contracts';
import type { z } from 'zod';
import { unknownRunbookMessage } from '../catalog/catalog.routes';
import { GrpcStatus, RequestValidationError, grpcCode } from '../http/errors';
import { parseNested } from '../http/route';
import { RunAdmission } from '../runs/admission';
import { CallerAssertions } from '../signing/caller-assertions';
import { quoteVisibility } from '../runs/run-listing';
import { inputDigest } from '../runs/runs.service';
import { TemporalService } from '../temporal/temporal.service';
import {
  fromTemporalPolicies,
  fromTemporalSpec,
  toTemporalOverlap,
  toTemporalPolicies,
  toTemporalSpec,
  type ApiSchedulePolicies,
  type ApiScheduleSpec,
} from './schedule-spec';
import {
  MAX_BACKFILL_RUNS,
  type ScheduleActionAccepted,
  type ScheduleList,
  type ScheduleSummary,
  type ScheduleView,
  type patchScheduleBodySchema,
} from './schedules.routes';

export type CreateScheduleBody = z.output<typeof createScheduleSchema>;
export type PatchScheduleBody = z.output<typeof patchScheduleBodySchema>;
export type BackfillScheduleBody = z.output<typeof backfillScheduleSchema>;

/** Memo of the schedule itself (set once: Temporal cannot change a schedule's memo afterwards). */
export const SCHEDULE_MEMO = {
  runbook: 'runbook',
  createdBy: 'createdBy',
  /** The input's digest at creation; the current one is in the action's arguments. */
  inputSha256: 'inputSha256',
  /** The deployment's task queue, so listings show only this deployment's schedules. */
  taskQueue: 'taskQueue',
} as const;

/**
 * Memo key, in the memo of the schedule's action (so of every run it starts), of the spec as given.
 * Temporal describes cron expressions back as calendars; this keeps what the caller wrote. It sits
 * in the action because the action, unlike the schedule's own memo, can be updated.
 */
export const SCHEDULE_SPEC_MEMO = 'scheduleSpec';

/** Fire times are asked of Temporal over this span; it stops at 1,000 times (and at the year 2100) anyway. */
const FIRE_TIME_HORIZON_MS = 100 * 365 * 86_400_000;

/** The most schedules a listing returns. */
const MAX_LISTED = 1000;

/** The workflow id prefix of a schedule's runs; Temporal appends `-<fire time>` (e.g. `-2026-03-29T00:30:00Z`). */
export function scheduledRunPrefix(runbook: string, scheduleId: string): string {
  return `${runbook}-sched-${scheduleId}`;
}

/**
 * Runbook schedules as Temporal Schedules: each fire starts the runbook workflow on the API's task
 * queue, with the input validated when the schedule was created or changed. Every change is made
 * as the caller (identity `api:<id>`).
 */
@Injectable()
export class SchedulesService {
  constructor(
    private readonly temporal: TemporalService,
    private readonly admission: RunAdmission,
    private readonly assertions: CallerAssertions,
  ) {}

  /** Signed like a launch, so runs whose input sets restricted fields can check who set them. */
  private signedStartArgs(principal: Principal, def: RunbookDefinition, scheduleId: string, input: unknown): RunbookStartArgs {
    return this.assertions.args({ name: launchAssertionName(def.workflowType) }, principal, startArgs(principal, scheduleId, input));
  }

  async create(principal: Principal, body: CreateScheduleBody): Promise<ScheduleView> {
    const def = findRunbook(body.runbook);
    if (!def) throw new NotFoundException(unknownRunbookMessage(body.runbook));
    const input = parseNested(def.inputSchema, body.input, ['input']);
    // As for a launch: the runbook's admission rules (e.g. a window override is for admins, a named window must exist).
    await this.admission.admit(principal, def, input, { whenClosed: false });
    const spec = toTemporalSpec(body.spec);
    const args = this.signedStartArgs(principal, def, body.id, input);
    const client = this.temporal.clientFor(principal);
    try {
      await this.temporal.call('server', () =>
        client.schedule.create({
          scheduleId: body.id,
          spec,
          action: this.action(def, body.id, args, body.spec),
          policies: toTemporalPolicies(body.policies),
          state: { paused: body.paused, note: body.note },
          memo: {
            [SCHEDULE_MEMO.runbook]: def.name,
            [SCHEDULE_MEMO.createdBy]: principal.id,
            [SCHEDULE_MEMO.inputSha256]: args.inputSha256,
            [SCHEDULE_MEMO.taskQueue]: this.temporal.taskQueue,
          },
          typedSearchAttributes: [
            { key: RunbookNameAttr, value: def.name },
            { key: RequestedByAttr, value: principal.id },
            { key: ScheduleIdAttr, value: body.id },
          ],
        }),
      );
    } catch (error) {
      if (error instanceof ScheduleAlreadyRunning) throw new ConflictException(`schedule ${body.id} already exists`);
      throw specError(error, body.spec);
    }
    return this.get(body.id, 10);
  }

  async list(runbook?: string): Promise<ScheduleList> {
    const clauses = [`${RunbookNameAttr.name} IS NOT NULL`];
    if (runbook !== undefined) clauses.push(`${RunbookNameAttr.name} = ${quoteVisibility(runbook)}`);
    const schedules = await this.temporal.call('server', async () => {
      const found: ScheduleSummary[] = [];
      for await (const schedule of this.temporal.client.schedule.list({ query: clauses.join(' AND '), pageSize: 100 })) {
        if (schedule.memo?.[SCHEDULE_MEMO.taskQueue] !== this.temporal.taskQueue) continue;
        found.push(toSummary(schedule));
        if (found.length >= MAX_LISTED) break;
      }
      return found;
    });
    return { schedules: schedules.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)) };
  }

  /** The schedule with its next `next` fire times after `from` (default now). */
  async get(id: string, next: number, from?: Date): Promise<ScheduleView> {
    const description = await this.describe(this.temporal.client.schedule.getHandle(id));
    return this.view(description, await this.fireTimes(id, next, from ?? new Date()));
  }

  async patch(principal: Principal, id: string, body: PatchScheduleBody): Promise<ScheduleView> {
    const handle = this.temporal.clientFor(principal).schedule.getHandle(id);
    const current = await this.describe(handle);
    const def = runbookOf(current);
    let args = startArgsOf(current);
    if (body.input !== undefined) {
      const input = parseNested(def.inputSchema, body.input, ['input']);
      await this.admission.admit(principal, def, input, { whenClosed: false });
      // Whoever sets the input requests the runs it starts (approval gates refuse their self-approval).
      args = this.signedStartArgs(principal, def, id, input);
    }
    const spec = body.spec ?? specOf(current);
    const temporalSpec = toTemporalSpec(spec);
    const policies: ApiSchedulePolicies = { ...fromTemporalPolicies(current.policies), ...definedOnly(body.policies ?? {}) };
    try {
      await this.temporal.call('server', () =>
        handle.update((previous) => ({
          spec: temporalSpec,
          action: { ...this.action(def, id, args, spec), taskQueue: previous.action.taskQueue, workflowId: previous.action.workflowId },
          policies: toTemporalPolicies(policies),
          state: {
            paused: previous.state.paused,
            note: body.note ?? previous.state.note ?? '',
            remainingActions: previous.state.remainingActions,
          },
        })),
      );
    } catch (error) {
      throw specError(error, spec);
    }
    return this.get(id, 10);
  }

  async delete(principal: Principal, id: string): Promise<void> {
    const handle = this.temporal.clientFor(principal).schedule.getHandle(id);
    await this.describe(handle);
    await this.temporal.call('server', () => handle.delete());
  }

  async pause(principal: Principal, id: string, note: string | undefined): Promise<ScheduleView> {
    const handle = this.temporal.clientFor(principal).schedule.getHandle(id);
    await this.describe(handle);
    await this.temporal.call('server', () => handle.pause(note ?? `paused by ${principal.id}`));
    return this.get(id, 10);
  }

  async unpause(principal: Principal, id: string, note: string | undefined): Promise<ScheduleView> {
    const handle = this.temporal.clientFor(principal).schedule.getHandle(id);
    await this.describe(handle);
    await this.temporal.call('server', () => handle.unpause(note ?? `unpaused by ${principal.id}`));
    return this.get(id, 10);
  }

  async trigger(principal: Principal, id: string, overlap: OverlapPolicy | undefined): Promise<ScheduleActionAccepted> {
    const handle = this.temporal.clientFor(principal).schedule.getHandle(id);
    await this.describe(handle);
    const requestedAt = new Date().toISOString();
    await this.temporal.call('server', () => handle.trigger(toTemporalOverlap(overlap ?? 'allow_all')));
    return { id, action: 'trigger', requestedAt, links: links(id) };
  }

  async backfill(principal: Principal, id: string, body: BackfillScheduleBody): Promise<ScheduleActionAccepted> {
    const handle = this.temporal.clientFor(principal).schedule.getHandle(id);
    await this.describe(handle);
    // The backfill counts both ends; ListScheduleMatchingTimes counts (start, end], hence a
    // millisecond before start. One fire time more than the cap is enough to refuse.
    const runs = await this.fireTimes(id, MAX_BACKFILL_RUNS + 1, new Date(Date.parse(body.start) - 1), new Date(body.end));
    if (runs.length > MAX_BACKFILL_RUNS) {
      throw new RequestValidationError('request body', [
        {
          path: ['end'],
          message: `the schedule fires more than ${MAX_BACKFILL_RUNS} times from ${body.start} to ${body.end}; a backfill starts at most ${MAX_BACKFILL_RUNS} runs: split it`,
        },
      ]);
    }
    const requestedAt = new Date().toISOString();
    await this.temporal.call('server', () =>
      handle.backfill({ start: new Date(body.start), end: new Date(body.end), overlap: toTemporalOverlap(body.overlap) }),
    );
    return { id, action: 'backfill', requestedAt, links: links(id) };
  }

  /** Describes a schedule; one that is not a runbook schedule of this deployment is "not found" too. */
  /** What the schedule's runs get: its runbook, the input hash and who they are requested by. */
  async runInputOf(id: string): Promise<{ runbook: RunbookDefinition; inputSha256?: string; requestedBy?: string }> {
    const description = await this.describe(this.temporal.client.schedule.getHandle(id));
    const args = startArgsOf(description);
    return { runbook: runbookOf(description), inputSha256: args.inputSha256, requestedBy: args.requestedBy?.id };
  }

  private async describe(handle: ScheduleHandle): Promise<ScheduleDescription> {
    const description = await this.temporal.call('server', () => handle.describe());
    if (description.typedSearchAttributes.get(RunbookNameAttr) === undefined || description.action.taskQueue !== this.temporal.taskQueue) {
      throw new ScheduleNotFoundError('not a runbook schedule of this deployment', handle.scheduleId);
    }
    return description;
  }

  /**
   * The first `count` times the spec fires after `from`, up to `until` included (100 years on by
   * default), as Temporal computes them (ListScheduleMatchingTimes: time zone, DST, startAt/endAt
   * and jitter included; a pause is not).
   */
  private async fireTimes(
    id: string,
    count: number,
    from: Date,
    until = new Date(from.getTime() + FIRE_TIME_HORIZON_MS),
  ): Promise<string[]> {
    const { connection, namespace } = this.temporal;
    const response = await this.temporal.call('server', () =>
      connection.workflowService.listScheduleMatchingTimes({
        namespace,
        scheduleId: id,
        startTime: optionalDateToTs(from),
        endTime: optionalDateToTs(until),
      }),
    );
    return (response.startTime ?? [])
      .slice(0, count)
      .map((t) => optionalTsToDate(t)?.toISOString())
      .filter((t): t is string => t !== undefined);
  }

  private action(
    def: RunbookDefinition,
    id: string,
    args: RunbookStartArgs,
    spec: ApiScheduleSpec,
  ): ScheduleOptionsStartWorkflowAction<Workflow> {
    return {
      type: 'startWorkflow',
      workflowType: def.workflowType,
      taskQueue: this.temporal.taskQueue,
      workflowId: scheduledRunPrefix(def.name, id),
      args: [args],
      typedSearchAttributes: [
        { key: RunbookNameAttr, value: def.name },
        { key: RequestedByAttr, value: args.requestedBy.id },
        { key: RunStatusAttr, value: 'running' },
        { key: AwaitingApprovalAttr, value: false },
        { key: ScheduleIdAttr, value: id },
      ],
      memo: { [RUN_MEMO.inputSha256]: args.inputSha256, [SCHEDULE_SPEC_MEMO]: spec },
    };
  }

  private view(description: ScheduleDescription, nextFireTimes: string[]): ScheduleView {
    const id = description.scheduleId;
    const args = startArgsOf(description);
    const memo = description.memo ?? {};
    return {
      id,
      runbook: runbookNameOf(description),
      workflowType: description.action.workflowType,
      taskQueue: description.action.taskQueue,
      input: args.input,
      inputSha256: args.inputSha256 ?? null,
      requestedBy: args.requestedBy?.id ?? null,
      spec: specOf(description),
      policies: fromTemporalPolicies(description.policies),
      paused: description.state.paused,
      note: description.state.note ?? '',
      createdBy: typeof memo[SCHEDULE_MEMO.createdBy] === 'string' ? (memo[SCHEDULE_MEMO.createdBy] as string) : null,
      createdAt: description.info.createdAt.toISOString(),
      updatedAt: description.info.lastUpdatedAt?.toISOString() ?? null,
      nextFireTimes,
      recentActions: description.info.recentActions.map((a) => ({
        runId: a.action.workflow.workflowId,
        scheduledAt: a.scheduledAt.toISOString(),
        startedAt: a.takenAt.toISOString(),
      })),
      runs: {
        total: description.info.numActionsTaken,
        skippedOverlap: description.info.numActionsSkippedOverlap,
        missedCatchupWindow: description.info.numActionsMissedCatchupWindow,
      },
      links: links(id),
    };
  }
}

function startArgs(principal: Principal, scheduleId: string, input: unknown): RunbookStartArgs {
  return {
    input,
    requestedBy: { id: principal.id, displayName: principal.displayName },
    scheduleId,
    inputSha256: inputDigest(input),
  };
}

function startArgsOf(description: ScheduleDescription): RunbookStartArgs {
  return (description.action.args?.[0] ?? {}) as RunbookStartArgs;
}

function runbookNameOf(description: ScheduleDescription): string {
  const fromMemo = description.memo?.[SCHEDULE_MEMO.runbook];
  return typeof fromMemo === 'string' ? fromMemo : (description.typedSearchAttributes.get(RunbookNameAttr) ?? '');
}

function runbookOf(description: ScheduleDescription): RunbookDefinition {
  const name = runbookNameOf(description);
  const def = findRunbook(name);
  if (!def) throw new ConflictException(`schedule ${description.scheduleId} runs ${name}, which this API no longer knows`);
  return def;
}

/** The spec as given when the schedule was created or last changed; else as Temporal describes it. */
function specOf(description: ScheduleDescription): ApiScheduleSpec {
  const stored = scheduleSpecSchema.safeParse(description.action.memo?.[SCHEDULE_SPEC_MEMO]);
  return stored.success ? stored.data : fromTemporalSpec(description.spec);
}

function toSummary(schedule: TemporalScheduleSummary): ScheduleSummary {
  const runbook = schedule.memo?.[SCHEDULE_MEMO.runbook];
  return {
    id: schedule.scheduleId,
    runbook: typeof runbook === 'string' ? runbook : (schedule.typedSearchAttributes?.get(RunbookNameAttr) ?? null),
    paused: schedule.state.paused,
    note: schedule.state.note ?? '',
    nextFireTime: schedule.info.nextActionTimes[0]?.toISOString() ?? null,
    links: links(schedule.scheduleId),
  };
}

function links(id: string): ScheduleView['links'] {
  return { self: `/v1/schedules/${id}`, runs: `/v1/runs?scheduleId=${id}` };
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Temporal refuses a spec it cannot compile (a cron expression out of range, say) with a TypeError
 * or INVALID_ARGUMENT: that is the caller's field, a 400, not our bug.
 */
function specError(error: unknown, spec: ApiScheduleSpec): unknown {
  const invalid = error instanceof TypeError || (error instanceof ServiceError && grpcCode(error) === GrpcStatus.INVALID_ARGUMENT);
  if (!invalid) return error;
  const message = error instanceof ServiceError && error.cause instanceof Error ? error.cause.message : (error as Error).message;
  const path = spec.cron?.length && !spec.calendars?.length ? ['spec', 'cron'] : ['spec'];
  return new RequestValidationError('request body', [{ path, message: `Temporal refused the schedule spec: ${message}` }]);
}
