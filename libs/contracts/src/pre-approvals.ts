import { z } from 'zod';
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
