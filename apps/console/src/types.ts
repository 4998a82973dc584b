/**
 * Shapes of the API's answers. Run state and rollout types come from @runbooks/contracts as
 * type-only imports (erased from the bundle); the API-side views are declared here as the
 * route files define them (apps/api/src/*\/*.routes.ts).
 */
import type { GateRecord, RunState, TaskRecord } from '@runbooks/contracts';
import type { JsonSchema } from './schema-draft';

export type { GateRecord, HostRecord, RolloutState, RunState, StepRecord, TaskRecord, WaveRecord } from '@runbooks/contracts';

export interface RunDetail extends RunState {
  temporalStatus: string;
  /** sha256 of the canonical JSON of the validated input: approvals are bound to it. */
  inputSha256: string | null;
}

export interface RunbookSummary {
  name: string;
  title: string;
  summary: string;
  workflowType: string;
  steps: { id: string; title: string }[];
  inputSchema: JsonSchema;
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

/** GET /v1/tasks: an open human task with its instructions and evidence form (apps/api/src/tasks/tasks.routes.ts). */
export interface OpenTask extends Pick<
  TaskRecord,
  'title' | 'instructions' | 'state' | 'assignedRole' | 'eligibleRoles' | 'claimedBy' | 'openedAt' | 'deadline' | 'overdue' | 'escalations'
> {
  runId: string;
  runbook: string;
  taskId: string;
  requestedBy: { id: string; displayName: string };
  evidenceForm: JsonSchema;
}

export interface ScheduleSummary {
  id: string;
  runbook: string;
  paused: boolean;
  note: string;
  nextFireTime: string | null;
}

export interface ScheduleDetail extends ScheduleSummary {
  nextFireTimes: string[];
  requestedBy?: string;
  spec: Record<string, unknown>;
}

export interface Verdict {
  open: boolean;
  reason: string;
  until?: string;
}

export interface MaintenanceView {
  evaluatedAt: string;
  verdict: Verdict;
  windows: { name: string; opens: string; timezone: string; durationSeconds: number; description: string; verdict: Verdict }[];
  freezes: { name: string; periods: { from: string; to: string; reason: string }[] }[];
}

export const TERMINAL = ['succeeded', 'failed', 'rejected', 'cancelled'];
