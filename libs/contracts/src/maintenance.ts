import { z } from 'zod';
import { isIanaTimeZone, timeZoneSchema } from './schedules';
import { freeText, isoInstant, singleLine } from './text';

const name = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be lowercase letters, digits and dashes (at most 63)');

/**
 * A recurring maintenance window: it opens at every occurrence of `opens` (a cron expression,
 * 5 fields, or 6 with seconds first) in `timezone`, and stays open `durationSeconds`.
 * E.g. Sundays 01:00-05:00 Berlin: opens "0 1 * * 0", Europe/Berlin, 14400.
 */
export const maintenanceWindowSchema = z.strictObject({
  name,
  opens: singleLine(200).min(9),
  timezone: timeZoneSchema.refine(isIanaTimeZone, 'must be an IANA time zone such as Europe/Berlin'),
  durationSeconds: z
    .number()
    .int()
    .min(1)
    .max(7 * 86_400),
  description: freeText(500).default(''),
});
export type MaintenanceWindow = z.infer<typeof maintenanceWindowSchema>;

/** A change freeze: named date ranges during which no change may be made (e.g. year-end). */
export const changeFreezeSchema = z.strictObject({
  name,
  periods: z
    .array(
      z
        .strictObject({ from: isoInstant(), to: isoInstant(), reason: freeText(200).default('') })
        .refine((p) => Date.parse(p.from) < Date.parse(p.to), { message: 'to must be after from', path: ['to'] }),
    )
    .min(1)
    .max(100),
});
export type ChangeFreeze = z.infer<typeof changeFreezeSchema>;

export const maintenanceCalendarSchema = z.strictObject({
  windows: z.array(maintenanceWindowSchema).default([]),
  freezes: z.array(changeFreezeSchema).default([]),
});
export type MaintenanceCalendar = z.infer<typeof maintenanceCalendarSchema>;

/** Whether changes may be made now under a window (and every freeze), and until when that holds. */
export interface WindowVerdict {
  open: boolean;
  /** Why not, when closed: "window sunday-night opens at ..." or "change freeze year-end until ...". */
  reason: string;
  /** When the verdict next changes (window closes/opens, freeze starts/ends); absent: never. */
  until?: string;
}
