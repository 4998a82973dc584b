import { defineUpdate } from '@temporalio/workflow';
import { z } from 'zod';
import { callerAssertionSchema } from './assertion';
import { principalSchema, type Role } from './principal';
import { escalationRecordSchema } from './escalation';

/**
 * The support lines a task escalates through when its SLA passes: 1st → 2nd → 3rd line.
 * They are roles like any other; a principal holding `tier2` works 2nd-line tasks.
 */
export const SUPPORT_TIERS = ['tier1', 'tier2', 'tier3'] as const satisfies readonly Role[];

/**
 * Who a task passes to, deadline after deadline: a task for a tier goes up the tiers above it;
 * a task for another role (e.g. technician) goes to the 2nd line, then the 3rd.
 */
export function escalationLadder(assignee: Role): Role[] {
  const tier = (SUPPORT_TIERS as readonly Role[]).indexOf(assignee);
  return [assignee, ...SUPPORT_TIERS.slice(tier >= 0 ? tier + 1 : 1)];
}

export const taskStateSchema = z.enum(['open', 'claimed', 'done', 'cancelled']);
export type TaskState = z.infer<typeof taskStateSchema>;

const personSchema = z.object({ id: z.string(), displayName: z.string() });

export const taskEventSchema = z.object({
  at: z.string(),
  by: z.string(),
  action: z.enum(['claim', 'release', 'reassign', 'complete']),
  detail: z.string().optional(),
});
export type TaskEvent = z.infer<typeof taskEventSchema>;

/** One tier's turn with the task: from when it had it until it passed it on (or the task closed). */
export const taskHoldSchema = z.object({ role: z.string(), from: z.string(), until: z.string().optional() });
export type TaskHold = z.infer<typeof taskHoldSchema>;

export const taskRecordSchema = z.object({
  id: z.string(),
  title: z.string(),
  /** What the person is to do, step by step (Markdown). */
  instructions: z.string(),
  state: taskStateSchema,
  /** The role or tier the task is with now. */
  assignedRole: z.string(),
  /** Roles that may claim it: the first assignee and every tier it escalated to. */
  eligibleRoles: z.array(z.string()),
  /** Who works on it now (claimed, or reassigned to). */
  claimedBy: personSchema.extend({ at: z.string() }).optional(),
  openedAt: z.string(),
  /** When the current tier's SLA ends (then escalation); absent once the last tier has it, or closed. */
  deadline: z.string().optional(),
  /** Set once any SLA deadline has passed. */
  overdue: z.boolean(),
  closedAt: z.string().optional(),
  /** The evidence form, as JSON Schema: what completing the task must give. */
  evidenceSchema: z.record(z.string(), z.unknown()),
  evidence: z.record(z.string(), z.unknown()).optional(),
  completedBy: personSchema.optional(),
  escalations: z.array(escalationRecordSchema),
  holds: z.array(taskHoldSchema),
  events: z.array(taskEventSchema),
});
export type TaskRecord = z.infer<typeof taskRecordSchema>;

const taskIdSchema = z.string().min(1);
/** The API's signed word on the principal; required when the workers hold assertion keys. */
const assertion = callerAssertionSchema.optional();

export const claimTaskArgsSchema = z.object({ taskId: taskIdSchema, principal: principalSchema, assertion });
export type ClaimTaskArgs = z.infer<typeof claimTaskArgsSchema>;

export const releaseTaskArgsSchema = z.object({
  taskId: taskIdSchema,
  principal: principalSchema,
  assertion,
  comment: z.string().max(2000).optional(),
});
export type ReleaseTaskArgs = z.infer<typeof releaseTaskArgsSchema>;

export const reassignTaskArgsSchema = z.object({
  taskId: taskIdSchema,
  principal: principalSchema,
  assertion,
  /** The person who works on it from now on. */
  to: personSchema,
  comment: z.string().max(2000).optional(),
});
export type ReassignTaskArgs = z.infer<typeof reassignTaskArgsSchema>;

export const completeTaskArgsSchema = z.object({
  taskId: taskIdSchema,
  principal: principalSchema,
  assertion,
  evidence: z.record(z.string(), z.unknown()),
  comment: z.string().max(2000).optional(),
});
export type CompleteTaskArgs = z.infer<typeof completeTaskArgsSchema>;

/** The task actions; each validator refuses (role, claim, evidence) before anything enters history. */
export const claimTaskUpdate = defineUpdate<TaskRecord, [ClaimTaskArgs]>('claimTask');
export const releaseTaskUpdate = defineUpdate<TaskRecord, [ReleaseTaskArgs]>('releaseTask');
export const reassignTaskUpdate = defineUpdate<TaskRecord, [ReassignTaskArgs]>('reassignTask');
export const completeTaskUpdate = defineUpdate<TaskRecord, [CompleteTaskArgs]>('completeTask');
