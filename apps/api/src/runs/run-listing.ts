import { Injectable } from '@nestjs/common';
import { decodeTypedSearchAttributes } from '@temporalio/common/lib/converter/payload-search-attributes';
import { optionalTsToDate } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { createHash } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import {
  AwaitingApprovalAttr,
  AwaitingTaskAttr,
  RequestedByAttr,
  RunStatusAttr,
  RUNBOOKS,
  RunbookNameAttr,
  ScheduleIdAttr,
  runStateQuery,
  type RunState,
  type RunStatus,
} from '@runbooks/contracts';
import { GrpcStatus, RequestValidationError, grpcCode } from '../http/errors';
import { TemporalService } from '../temporal/temporal.service';
import type { RunSummary } from './runs.routes';

/** The statuses of a run waiting for someone: a decision at a gate, or a person's task. */
const WAITING_STATUSES = ['awaiting_approval', 'awaiting_task'] as const;

/** The runbook label of runs whose runbook is not in the catalog. */
const OTHER_RUNBOOK = 'other';
/** The whole count behind runbooks_runs_waiting, every query in it, within this (below a scrape's 10 s timeout). */
const WAITING_COUNT_MS = 4_000;

/** One series of runbooks_runs_waiting. */
export interface WaitingCount {
  status: (typeof WAITING_STATUSES)[number];
  runbook: string;
  count: number;
}

export interface RunFilters {
  runbook?: string;
  /** Runs of none of these runbooks. */
  notRunbooks?: readonly string[];
  status?: RunStatus;
  requestedBy?: string;
  awaitingApproval?: boolean;
  /** Only runs with a human task open (the AwaitingTask search attribute). */
  awaitingTask?: boolean;
  /** Only runs this schedule started. */
  scheduleId?: string;
  /** Only executions Temporal still runs. */
  openOnly?: boolean;
}

export interface RunPage {
  runs: RunSummary[];
  nextPageToken: string | null;
}

type RawExecution = temporal.api.workflow.v1.IWorkflowExecutionInfo;

/**
 * Lists runs from Temporal visibility by their search attributes. Every listing is scoped to the
 * API's task queue, so deployments (and test suites) sharing a namespace do not see each other's runs.
 */
@Injectable()
export class RunListing {
  constructor(private readonly temporal: TemporalService) {}

  async page(filters: RunFilters, pageSize: number, pageToken?: string): Promise<RunPage> {
    const { connection, namespace } = this.temporal;
    const query = visibilityQuery(this.temporal.taskQueue, filters);
    const nextPageToken = pageToken === undefined ? undefined : openPageToken(pageToken, query);
    let response: temporal.api.workflowservice.v1.IListWorkflowExecutionsResponse;
    try {
      response = await this.temporal.call('server', () =>
        connection.workflowService.listWorkflowExecutions({ namespace, pageSize, nextPageToken, query }),
      );
    } catch (error) {
      if (pageToken && grpcCode(error) === GrpcStatus.INVALID_ARGUMENT) throw invalidPageToken();
      throw error;
    }
    const token = response.nextPageToken && response.nextPageToken.length > 0 ? sealPageToken(response.nextPageToken, query) : null;
    return { runs: (response.executions ?? []).map(toRunSummary), nextPageToken: token };
  }

  /**
   * How many open runs wait for a decision or a person now, by status and runbook (the metrics'
   * runbooks_runs_waiting). Temporal's visibility counts with GROUP BY ExecutionStatus only, so one
   * count per status, then, for a status some runs wait in, one per runbook of the catalog and one
   * for runs of any other runbook (`other`: a runbook no longer in the catalog). All of it within
   * WAITING_COUNT_MS, so a slow server fails this gauge, not the scrape.
   */
  async countWaiting(): Promise<WaitingCount[]> {
    const deadline = Date.now() + WAITING_COUNT_MS;
    const count = async (filters: RunFilters): Promise<number> => {
      const query = visibilityQuery(this.temporal.taskQueue, { ...filters, openOnly: true });
      const left = Math.max(1, deadline - Date.now());
      return (await this.temporal.call('server', () => this.temporal.client.workflow.count(query), left)).count;
    };
    const runbooks = [...RUNBOOKS.map((r) => r.name), OTHER_RUNBOOK];
    const byStatus = await Promise.all(
      WAITING_STATUSES.map(async (status): Promise<WaitingCount[]> => {
        const total = await count({ status });
        return mapLimited(runbooks, QUERY_CONCURRENCY, async (runbook) => ({
          status,
          runbook,
          count:
            total === 0
              ? 0
              : await count(runbook === OTHER_RUNBOOK ? { status, notRunbooks: RUNBOOKS.map((r) => r.name) } : { status, runbook }),
        }));
      }),
    );
    return byStatus.flat();
  }

  /** Every run matching the filters, page by page, up to `limit`. */
  async all(filters: RunFilters, limit: number): Promise<RunSummary[]> {
    const runs: RunSummary[] = [];
    let token: string | undefined;
    do {
      const page = await this.page(filters, Math.min(100, limit - runs.length), token);
      runs.push(...page.runs);
      token = page.nextPageToken ?? undefined;
    } while (token && runs.length < limit);
    return runs;
  }

  /** The own state (status query) of every run matching the filters, up to `limit`; runs gone since the listing are left out. */
  async states(filters: RunFilters, limit: number): Promise<RunState[]> {
    const runs = await this.all(filters, limit);
    const states = await mapLimited(runs, QUERY_CONCURRENCY, async (run) => {
      try {
        return await this.temporal.call('worker', () => this.temporal.handle(run.runId).query(runStateQuery));
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) return undefined; // ended and gone since the listing
        throw error;
      }
    });
    return states.filter((state): state is RunState => state !== undefined);
  }
}

/** How many runs' states one listing queries at once. */
const QUERY_CONCURRENCY = 8;

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

/** Values are quoted and escaped; the schemas already allow only known enums and plain ids. */
export function visibilityQuery(taskQueue: string, filters: RunFilters): string {
  const clauses = [`TaskQueue = ${quote(taskQueue)}`, `${RunbookNameAttr.name} IS NOT NULL`];
  if (filters.runbook !== undefined) clauses.push(`${RunbookNameAttr.name} = ${quote(filters.runbook)}`);
  for (const runbook of filters.notRunbooks ?? []) clauses.push(`${RunbookNameAttr.name} != ${quote(runbook)}`);
  if (filters.status !== undefined) clauses.push(`${RunStatusAttr.name} = ${quote(filters.status)}`);
  if (filters.requestedBy !== undefined) clauses.push(`${RequestedByAttr.name} = ${quote(filters.requestedBy)}`);
  if (filters.awaitingApproval !== undefined) clauses.push(`${AwaitingApprovalAttr.name} = ${filters.awaitingApproval ? 'true' : 'false'}`);
  if (filters.awaitingTask !== undefined) clauses.push(`${AwaitingTaskAttr.name} = ${filters.awaitingTask ? 'true' : 'false'}`);
  if (filters.scheduleId !== undefined) clauses.push(`${ScheduleIdAttr.name} = ${quote(filters.scheduleId)}`);
  if (filters.openOnly) clauses.push(`ExecutionStatus = 'Running'`);
  return clauses.join(' AND ');
}

/**
 * Page tokens are the server's, bound to the query they continue: a token from another filter or
 * not from this API is a 400 here (the server would answer it with a retried Unknown error).
 */
function sealPageToken(serverToken: Uint8Array, query: string): string {
  return Buffer.from(JSON.stringify({ q: queryTag(query), t: Buffer.from(serverToken).toString('base64') })).toString('base64url');
}

function openPageToken(token: string, query: string): Buffer {
  let sealed: unknown;
  try {
    sealed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw invalidPageToken();
  }
  const { q, t } = (sealed ?? {}) as { q?: unknown; t?: unknown };
  if (typeof t !== 'string' || typeof q !== 'string') throw invalidPageToken();
  if (q !== queryTag(query)) throw invalidPageToken('belongs to a listing with other filters');
  return Buffer.from(t, 'base64');
}

function queryTag(query: string): string {
  return createHash('sha256').update(query).digest('base64url').slice(0, 22);
}

function invalidPageToken(reason = 'is not a nextPageToken of this listing'): RequestValidationError {
  return new RequestValidationError('query', [{ path: ['pageToken'], message: reason }]);
}

/** A string literal of the visibility query language. */
export function quoteVisibility(value: string): string {
  return quote(value);
}

function quote(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function toRunSummary(raw: RawExecution): RunSummary {
  const attrs = decodeTypedSearchAttributes(raw.searchAttributes?.indexedFields);
  return {
    runId: raw.execution?.workflowId ?? '',
    runbook: attrs.get(RunbookNameAttr) ?? null,
    status: attrs.get(RunStatusAttr) ?? null,
    requestedBy: attrs.get(RequestedByAttr) ?? null,
    awaitingApproval: attrs.get(AwaitingApprovalAttr) ?? null,
    scheduleId: attrs.get(ScheduleIdAttr) ?? null,
    startTime: optionalTsToDate(raw.startTime)?.toISOString() ?? '',
    closeTime: optionalTsToDate(raw.closeTime)?.toISOString() ?? null,
    temporalStatus: executionStatusName(raw.status),
  };
}

const STATUS_PREFIX = 'WORKFLOW_EXECUTION_STATUS_';

/** The same names WorkflowHandle.describe() gives (RUNNING, COMPLETED, CANCELLED, ...). */
function executionStatusName(code: temporal.api.enums.v1.WorkflowExecutionStatus | null | undefined): string {
  const name = code == null ? undefined : temporal.api.enums.v1.WorkflowExecutionStatus[code];
  if (!name) return 'UNKNOWN';
  const short = name.startsWith(STATUS_PREFIX) ? name.slice(STATUS_PREFIX.length) : name;
  return short === 'CANCELED' ? 'CANCELLED' : short;
}
