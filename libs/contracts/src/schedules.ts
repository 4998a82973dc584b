import { z } from 'zod';

const slug = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be lowercase letters, digits and dashes (at most 63)');

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
  .regex(
    /^((\*|[0-9a-zA-Z]+(-[0-9a-zA-Z]+)?)(\/[0-9]+)?)(,((\*|[0-9a-zA-Z]+(-[0-9a-zA-Z]+)?)(\/[0-9]+)?))*$/,
    'must be a range such as 0, 1-5, */15 or mon,wed',
  );

export const calendarSpecSchema = z.object({
  second: calendarFieldSchema.optional(),
  minute: calendarFieldSchema.optional(),
  hour: calendarFieldSchema.optional(),
  dayOfMonth: calendarFieldSchema.optional(),
  month: calendarFieldSchema.optional(),
  dayOfWeek: calendarFieldSchema.optional(),
  comment: z.string().max(200).optional(),
});

export const scheduleSpecSchema = z
  .object({
    /** Cron expressions (5 fields: minute hour day-of-month month day-of-week). */
    cron: z.array(z.string().min(9).max(200)).max(10).optional(),
    calendars: z.array(calendarSpecSchema).max(10).optional(),
    timezone: z.string().refine(isIanaTimeZone, 'must be an IANA time zone such as Europe/Berlin').default('UTC'),
    startAt: z.iso.datetime({ offset: true }).optional(),
    endAt: z.iso.datetime({ offset: true }).optional(),
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

export const schedulePoliciesSchema = z.object({
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

export const createScheduleSchema = z.object({
  id: slug,
  runbook: z.string().min(1),
  input: z.unknown(),
  spec: scheduleSpecSchema,
  policies: schedulePoliciesSchema.prefault({}),
  note: z.string().max(500).default(''),
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
    note: z.string().max(500).optional(),
  })
  .strict();

export const backfillScheduleSchema = z
  .object({
    start: z.iso.datetime({ offset: true }),
    end: z.iso.datetime({ offset: true }),
    overlap: overlapPolicySchema.default('allow_all'),
  })
  .refine((b) => Date.parse(b.start) < Date.parse(b.end), { message: 'end must be after start', path: ['end'] });
