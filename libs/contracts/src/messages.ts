import { defineQuery, defineUpdate } from '@temporalio/workflow';
import { z } from 'zod';
import { callerAssertionSchema } from './assertion';
import { principalSchema } from './principal';
import { approvalDecisionValueSchema, type GateRecord, type RunState } from './run-state';

/** Every runbook answers this query with its whole state. */
export const runStateQuery = defineQuery<RunState>('runState');

export const decideApprovalArgsSchema = z.object({
  gateId: z.string().min(1),
  decision: approvalDecisionValueSchema,
  comment: z.string().max(2000),
  principal: principalSchema,
  /** The API's signed word on the principal (see assertion.ts); required when the workers hold assertion keys. */
  assertion: callerAssertionSchema.optional(),
  /** The input hash the approver reviewed; when given it must be the run's. */
  inputSha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
});
export type DecideApprovalArgs = z.infer<typeof decideApprovalArgsSchema>;

/** A decision on an approval gate. The validator refuses it before it enters history. */
export const decideApprovalUpdate = defineUpdate<GateRecord, [DecideApprovalArgs]>('decideApproval');

export const requestCancelArgsSchema = z.object({
  reason: z.string().min(1).max(2000),
  principal: principalSchema,
  assertion: callerAssertionSchema.optional(),
});
export type RequestCancelArgs = z.infer<typeof requestCancelArgsSchema>;

/** Records who cancels and why; the API then cancels the workflow, which undoes its changes. */
export const requestCancelUpdate = defineUpdate<RunState, [RequestCancelArgs]>('requestCancel');

/**
 * ApplicationFailure types thrown by update validators. The API maps them to HTTP statuses,
 * so a refused decision is a 403/409 and never a 500.
 */
export const RejectionType = {
  forbidden: 'RunbookForbidden',
  conflict: 'RunbookConflict',
  notFound: 'RunbookNotFound',
  /** The arguments break a rule only the run knows (e.g. task evidence); details[0].issues name the fields. */
  invalid: 'RunbookInvalid',
} as const;
