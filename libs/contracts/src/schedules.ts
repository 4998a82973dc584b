import { z } from 'zod';
import { freeText, isoInstant, singleLine } from './text';

const slug = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be lowercase letters, digits and dashes (at most 63)');

/** Shaped like an IANA zone name (Europe/Berlin, America/Argentina/Buenos_Aires, UTC, Etc/GMT+1); isIanaTimeZone checks it exists. */
export const timeZoneSchema = z
  .string()
  .max(64)
  .regex(/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+){0,2}$/, 'must be an IANA time zone such as Europe/Berlin');

export function isIanaTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** One calendar entry: each field a Temporal calendar range string such as "0", "1-5", "*" or "0,30". */
const calendarFieldSchema = z
  .string()
  .max(100)
  .regex(
    /^((\*|[0-9a-zA-Z]+(-[0-9a-zA-Z]+)?)(\/[0-9]+)?)(,((\*|[0-9a-zA-Z]+(-[0-9a-zA-Z]+)?)(\/[0-9]+)?))*$/,
    'must be a range such as 0, 1-5, */15 or mon,wed',
  );

export const calendarSpecSchema = z.strictObject({
  second: calendarFieldSchema.optional(),
  minute: calendarFieldSchema.optional(),
  hour: calendarFieldSchema.optional(),
  dayOfMonth: calendarFieldSchema.optional(),
  month: calendarFieldSchema.optional(),
  dayOfWeek: calendarFieldSchema.optional(),
  comment: singleLine(200).optional(),
});

export const scheduleSpecSchema = z
  .strictObject({
    /** Cron expressions (5 fields: minute hour day-of-month month day-of-week). */
    cron: z.array(singleLine(200).min(9)).max(10).optional(),
    calendars: z.array(calendarSpecSchema).max(10).optional(),
    timezone: timeZoneSchema.refine(isIanaTimeZone, 'must be an IANA time zone such as Europe/Berlin').default('UTC'),
    startAt: isoInstant().optional(),
    endAt: isoInstant().optional(),
    jitterSeconds: z.number().int().min(0).max(86_400).default(0),
  })
  .refine((s) => (s.cron?.length ?? 0) + (s.calendars?.length ?? 0) > 0, {
    message: 'give at least one cron expression or calendar',
    path: ['cron'],
  })
  .refine((s) => !s.startAt || !s.endAt || Date.parse(s.startAt) < Date.parse(s.endAt), {
    message: 'endAt must be after startAt',
    path: ['endAt'],
  });
export type ScheduleSpec = z.infer<typeof scheduleSpecSchema>;

/** What happens when a run is due while the previous one still runs. */
export const overlapPolicySchema = z.enum(['skip', 'buffer_one', 'buffer_all', 'cancel_other', 'allow_all']);
export type OverlapPolicy = z.infer<typeof overlapPolicySchema>;

export const schedulePoliciesSchema = z.strictObject({
  overlap: overlapPolicySchema.default('skip'),
  /** How late a missed run (server down) may still start; later ones are skipped. */
  catchupWindowSeconds: z
    .number()
    .int()
    .min(60)
    .max(365 * 86_400)
    .default(3600),
  pauseOnFailure: z.boolean().default(false),
});

export const createScheduleSchema = z.strictObject({
  id: slug,
  runbook: slug,
  input: z.unknown(),
  spec: scheduleSpecSchema,
  policies: schedulePoliciesSchema.prefault({}),
  note: freeText(500).default(''),
  paused: z.boolean().default(false),
});
export type CreateScheduleRequest = z.infer<typeof createScheduleSchema>;

export const patchScheduleSchema = z
  .object({
    input: z.unknown().optional(),
    spec: scheduleSpecSchema.optional(),
    /** Only the policies given change (no defaults filled in). */
    policies: z
      .object({
        overlap: overlapPolicySchema.optional(),
        catchupWindowSeconds: z
          .number()
          .int()
          .min(60)
          .max(365 * 86_400)
          .optional(),
        pauseOnFailure: z.boolean().optional(),
      })
      .strict()
      .optional()
      .meta({ description: 'Only the policies given change' }),
    note: freeText(500).optional(),
  })
  .strict();

export const backfillScheduleSchema = z
  .strictObject({
    start: isoInstant(),
    end: isoInstant(),
    overlap: overlapPolicySchema.default('allow_all'),
  })
  .refine((b) => Date.parse(b.start) < Date.parse(b.end), { message: 'end must be after start', path: ['end'] });
