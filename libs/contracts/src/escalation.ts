import { z } from 'zod';

/** A wait that ended undecided or undone and passed to the next tier, who was told. */
export const escalationRecordSchema = z.object({
  tier: z.number().int().positive(),
  contact: z.string(),
  at: z.string(),
  reason: z.string(),
});
export type EscalationRecord = z.infer<typeof escalationRecordSchema>;
