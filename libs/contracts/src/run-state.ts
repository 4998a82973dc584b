import { z } from 'zod';
import { roleSchema } from './principal';
import { escalationRecordSchema } from './escalation';
import { rolloutStateSchema } from './rollout';
import { taskRecordSchema } from './tasks';

/**
 * succeeded_with_warnings: the change was made and verified (the run passed its point of no
 * return), but a later step such as a notification failed; the change stays, the warning says what failed.
 */
export const runStatusSchema = z.enum([
  'running',
  'awaiting_approval',
  'awaiting_task',
  'compensating',
  'succeeded',
  'succeeded_with_warnings',
  'failed',
  'rejected',
  'cancelled',
]);
export type RunStatus = z.infer<typeof runStatusSchema>;
export const TERMINAL_RUN_STATUSES: readonly RunStatus[] = ['succeeded', 'succeeded_with_warnings', 'failed', 'rejected', 'cancelled'];

export const stepStateSchema = z.enum(['pending', 'running', 'succeeded', 'failed', 'skipped', 'compensated']);
export type StepState = z.infer<typeof stepStateSchema>;

export const stepRecordSchema = z.object({
  id: z.string(),
  title: z.string(),
  state: stepStateSchema,
  startedAt: z.string().optional(),
  endedAt: z.string().optional(),
  attempts: z.number().int().nonnegative(),
  summary: z.string().optional(),
  error: z.string().optional(),
  /** Structured result facts for the report (counts, ids, paths); never secrets. */
  details: z.record(z.string(), z.unknown()).optional(),
});
export type StepRecord = z.infer<typeof stepRecordSchema>;

export const approvalDecisionValueSchema = z.enum(['approve', 'reject']);
export type ApprovalDecisionValue = z.infer<typeof approvalDecisionValueSchema>;

export const approvalDecisionRecordSchema = z.object({
  by: z.string(),
  displayName: z.string(),
  decision: approvalDecisionValueSchema,
  comment: z.string(),
  at: z.string(),
});
export type ApprovalDecisionRecord = z.infer<typeof approvalDecisionRecordSchema>;

export { escalationRecordSchema, type EscalationRecord } from './escalation';

export const gateStateSchema = z.enum(['not_reached', 'pending', 'approved', 'rejected', 'expired', 'cancelled']);
export type GateState = z.infer<typeof gateStateSchema>;

export const gateRecordSchema = z.object({
  id: z.string(),
  title: z.string(),
  state: gateStateSchema,
  allowedRoles: z.array(roleSchema),
  requiredApprovals: z.number().int().positive(),
  openedAt: z.string().optional(),
  /** When the current wait ends (then escalation or expiry). */
  deadline: z.string().optional(),
  closedAt: z.string().optional(),
  decisions: z.array(approvalDecisionRecordSchema),
  escalations: z.array(escalationRecordSchema),
  /** The run input this gate approves; a decision made for another input is refused. */
  inputSha256: z.string().optional(),
  /** E.g. pre-approvals found void because the schedule's input changed. */
  notes: z.array(z.string()).optional(),
});
export type GateRecord = z.infer<typeof gateRecordSchema>;

export const compensationRecordSchema = z.object({
  stepId: z.string(),
  title: z.string(),
  state: z.enum(['registered', 'done', 'failed']),
  at: z.string().optional(),
  error: z.string().optional(),
});
export type CompensationRecord = z.infer<typeof compensationRecordSchema>;

/** Everything a run knows about itself: the status query's answer and the report's source. */
export const runStateSchema = z.object({
  runId: z.string(),
  runbook: z.string(),
  title: z.string(),
  requestedBy: z.object({ id: z.string(), displayName: z.string() }),
  requestedAt: z.string(),
  /** Set when a schedule started the run: which one, and the fire time the run is for. */
  schedule: z.object({ id: z.string(), fireTime: z.string().optional() }).optional(),
  status: runStatusSchema,
  /** The launch input as given (it holds secret references, never secret values). */
  input: z.unknown(),
  steps: z.array(stepRecordSchema),
  gates: z.array(gateRecordSchema),
  /** Human tasks (run.task): absent in runs that have none. */
  tasks: z.array(taskRecordSchema).optional(),
  compensations: z.array(compensationRecordSchema),
  cancellation: z.object({ by: z.string(), reason: z.string(), at: z.string() }).optional(),
  endedAt: z.string().optional(),
  error: z.string().optional(),
  /** When the change was made for good (run.pointOfNoReturn()): later failures are warnings, never undone. */
  pointOfNoReturn: z.object({ at: z.string(), afterStep: z.string().optional() }).optional(),
  /** What failed after the point of no return; the run then ends succeeded_with_warnings. */
  warnings: z.array(z.string()).optional(),
  /** Runbook-specific outcome facts, e.g. the restore point and byte counts. */
  outcome: z.record(z.string(), z.unknown()).optional(),
  /** Fleet runbooks: waves, hosts and operator actions. */
  rollout: rolloutStateSchema.optional(),
  /** The incident runbook's timeline, findings and review draft (IncidentRecord; rendered by renderIncidentMarkdown). */
  incident: z.record(z.string(), z.unknown()).optional(),
  /** How often the run continued as new to keep its history small. */
  continuedAsNew: z.number().int().nonnegative().optional(),
});
export type RunState = z.infer<typeof runStateSchema>;
