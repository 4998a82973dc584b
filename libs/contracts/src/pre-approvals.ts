import { z } from 'zod';
import { callerAssertionSchema } from './assertion';
import { freeText, isoInstant } from './text';

/**
 * An approval given ahead of time for a scheduled run: for the schedule's next run (no fireTime)
 * or for one fire time. It is bound to the schedule's input hash: when the schedule's input
 * changes, the pre-approval is void and the run waits for an approver as usual.
 */
export const preApprovalSchema = z.object({
  id: z.string().min(1),
  scheduleId: z.string().min(1),
  gateId: z.string().min(1),
  /** The scheduled fire time it is for; absent: the next run of the schedule. */
  fireTime: z.iso.datetime({ offset: true }).optional(),
  inputSha256: z.string().regex(/^[0-9a-f]{64}$/),
  by: z.string().min(1),
  displayName: z.string().min(1),
  comment: z.string().max(2000),
  at: z.iso.datetime({ offset: true }),
  /** The API's signed word on the approver (PRE_APPROVAL_ASSERTION over preApprovalSignedArgs); never shown by the API. */
  assertion: callerAssertionSchema.optional(),
  /** Set when a run used it (or found it void); a pre-approval is used once. */
  consumedBy: z.string().optional(),
  voidedBecause: z.string().optional(),
});
export type PreApproval = z.infer<typeof preApprovalSchema>;

export const createPreApprovalSchema = z.strictObject({
  gateId: z
    .string()
    .max(100)
    .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/, 'must be an approval gate id, e.g. approve-production'),
  fireTime: isoInstant().optional(),
  comment: freeText(2000).default(''),
});

/** The name an approval given ahead is signed under (the assertion's `update`). */
export const PRE_APPROVAL_ASSERTION = 'preApproval';

/**
 * What the API signs when someone approves ahead, and the worker verifies before a run counts it:
 * the approval's own fields, so a record edited in the store (another gate, schedule, input, or
 * approver) no longer verifies.
 */
export function preApprovalSignedArgs(
  p: Pick<PreApproval, 'scheduleId' | 'gateId' | 'fireTime' | 'inputSha256' | 'comment'>,
): Record<string, unknown> {
  return { scheduleId: p.scheduleId, gateId: p.gateId, fireTime: p.fireTime, inputSha256: p.inputSha256, comment: p.comment };
}
