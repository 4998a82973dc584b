import { z } from 'zod';
import { singleLine } from './text';

const hostNameSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$/, 'must be a host name: letters, digits, dots and dashes');

/** What every hands-on swap (disk-replacement, hardware-swap) asks besides the part. */
export const handsOnSwapFields = {
  ticket: singleLine(200).optional(),
  /** Who hears that the part was replaced. */
  notify: z.array(singleLine(320).min(1)).min(1).max(100),
  /** Each support line's time to do the swap before it passes to the next line (1st → 2nd → 3rd). */
  slaSeconds: z
    .number()
    .int()
    .min(1)
    .max(30 * 24 * 3600)
    .default(4 * 3600),
};

export const diskReplacementInputSchema = z
  .object({
    /** The server with the failed disk. */
    host: hostNameSchema,
    /** Where the failed disk sits, as the chassis labels it (e.g. "bay 3"). */
    slot: singleLine(100).min(1),
    /** The failed disk's serial number as the monitoring reported it, so the technician pulls the right one. */
    failedSerial: singleLine(100).min(1).optional(),
    ...handsOnSwapFields,
  })
  .strict();
export type DiskReplacementInput = z.infer<typeof diskReplacementInputSchema>;

/** A part's serial number as printed on it. */
export const serialNumberSchema = z.string().regex(/^[A-Za-z0-9-]{4,64}$/, 'must be a serial number (4 to 64 letters, digits or dashes)');

/** What the technician gives when the disk is swapped; both serials go into the report. */
export const diskSwapEvidenceSchema = z.strictObject({
  removedSerial: serialNumberSchema.describe('Serial number on the disk taken out'),
  installedSerial: serialNumberSchema.describe('Serial number on the disk put in'),
  rebuildStarted: z.boolean().describe('The RAID controller shows the array rebuilding onto the new disk'),
});
export type DiskSwapEvidence = z.infer<typeof diskSwapEvidenceSchema>;

/** The evidence form as the task carries it (and GET /v1/tasks shows it). */
export const diskSwapEvidenceForm = z.toJSONSchema(diskSwapEvidenceSchema) as Record<string, unknown>;
