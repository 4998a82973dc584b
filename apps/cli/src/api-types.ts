/**
 * The API's answers as the CLI reads them. Types only: the CLI carries no runtime dependency on
 * the contracts (zod, Temporal), so it stays a small install.
 */
import type { GateRecord, RunState, TaskRecord } from '@runbooks/contracts';

export type { GateRecord, RunState, StepRecord, WaveRecord, HostRecord, TaskRecord } from '@runbooks/contracts';

/** GET /v1/runs/{id}: the run state with Temporal's execution status. Status is a string: newer APIs may add some. */
export type RunDetail = Omit<RunState, 'status'> & { status: string; temporalStatus: string };

export interface ApiErrorBody {
  statusCode: number;
  error: string;
  message: string;
  issues?: { path: string; message: string }[];
}

export interface RunbookSummary {
  name: string;
  title: string;
  summary: string;
  workflowType: string;
  steps?: unknown[];
  inputSchema?: unknown;
}

export interface LaunchedRun {
  runId: string;
  runbook: string;
  status: string;
  links: { self: string; report: string };
  waitsForWindow?: { reason: string; until?: string };
}

export interface RunSummary {
  runId: string;
  runbook: string | null;
  status: string | null;
  requestedBy: string | null;
  awaitingApproval: boolean | null;
  scheduleId: string | null;
  startTime: string;
  closeTime: string | null;
  temporalStatus: string;
}

export interface PendingApproval extends Pick<
  GateRecord,
  'title' | 'openedAt' | 'deadline' | 'allowedRoles' | 'requiredApprovals' | 'decisions'
> {
  runId: string;
  runbook: string;
  gateId: string;
  requestedBy: { id: string; displayName: string };
}

export interface ScheduleSummary {
  id: string;
  runbook: string | null;
  paused: boolean;
  note: string;
  nextFireTime: string | null;
}

export interface ScheduleView {
  id: string;
  runbook: string;
  input: unknown;
  inputSha256: string | null;
  requestedBy: string | null;
  spec: unknown;
  policies: unknown;
  paused: boolean;
  note: string;
  createdBy: string | null;
  createdAt: string;
  nextFireTimes: string[];
  recentActions: { runId: string; scheduledAt: string; startedAt: string }[];
  runs: { total: number; skippedOverlap: number; missedCatchupWindow: number };
}

export interface ScheduleActionAccepted {
  id: string;
  action: string;
  requestedAt: string;
}

/** GET /v1/tasks: an open human task with what it asks and the evidence form (JSON Schema). */
export interface OpenTask extends Pick<
  TaskRecord,
  'title' | 'instructions' | 'state' | 'assignedRole' | 'eligibleRoles' | 'claimedBy' | 'openedAt' | 'deadline' | 'overdue' | 'escalations'
> {
  runId: string;
  runbook: string;
  taskId: string;
  requestedBy: { id: string; displayName: string };
  evidenceForm: Record<string, unknown>;
}
