import {
  backfillScheduleSchema,
  createScheduleSchema,
  freeText,
  isoInstant,
  overlapPolicySchema,
  patchScheduleSchema,
  schedulePoliciesSchema,
  scheduleSpecSchema,
} from '@runbooks/contracts';
import { z } from 'zod';
import { runbookNameSchema, runbookUnion } from '../catalog/catalog.routes';
import { errorBodySchema } from '../http/errors';
import { defineRoute, type RouteDefinition } from '../http/route';

export const scheduleIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be a schedule id: lowercase letters, digits and dashes (at most 63)');

/** The most fire times GET /v1/schedules/:id returns. */
export const MAX_NEXT_FIRE_TIMES = 50;

export const scheduleParamsSchema = z.object({ id: scheduleIdSchema });

export const createScheduleBodySchema = createScheduleSchema.strict();

/** The create body as the document shows it: one shape per runbook, its input schema included. */
export const createScheduleDocumentedBodySchema = runbookUnion((def) =>
  createScheduleSchema.extend({ runbook: z.literal(def.name), input: def.inputSchema }).strict(),
);

export const getScheduleQuerySchema = z
  .object({
    next: z.coerce
      .number()
      .int()
      .min(1)
      .max(MAX_NEXT_FIRE_TIMES)
      .default(10)
      .meta({ description: `How many upcoming fire times to show (1..${MAX_NEXT_FIRE_TIMES})` }),
    from: isoInstant()
      .optional()
      .meta({ description: 'Fire times after this instant instead of after now (e.g. to look at a DST change day)' }),
  })
  .strict();

export const listSchedulesQuerySchema = z
  .object({ runbook: runbookNameSchema.optional().meta({ description: 'Only schedules of this runbook' }) })
  .strict();

export const pauseScheduleBodySchema = z
  .object({ note: freeText(500).optional().meta({ description: 'Why; shown as the schedule note' }) })
  .strict()
  .prefault({});

export const triggerScheduleBodySchema = z
  .object({
    overlap: overlapPolicySchema
      .optional()
      .meta({ description: 'What to do if a run of this schedule is still running; default allow_all (start it anyway)' }),
  })
  .strict()
  .prefault({});

export { backfillScheduleSchema };

export const patchScheduleBodySchema = patchScheduleSchema;

const linksSchema = z.object({ self: z.string(), runs: z.string().meta({ description: 'The runs this schedule started' }) });

export const scheduleViewSchema = z.object({
  id: z.string(),
  runbook: z.string(),
  workflowType: z.string(),
  taskQueue: z.string(),
  input: z.unknown().meta({ description: "The input every run gets, as validated by the runbook's schema (defaults applied)" }),
  inputSha256: z.string().nullable(),
  requestedBy: z.string().nullable().meta({ description: 'Who the runs are requested by: whoever last set the input' }),
  spec: scheduleSpecSchema.meta({ description: 'The spec as given (defaults applied)' }),
  policies: schedulePoliciesSchema,
  paused: z.boolean(),
  note: z.string(),
  createdBy: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string().nullable(),
  nextFireTimes: z
    .array(z.string())
    .meta({ description: 'Upcoming fire times (UTC), as Temporal computes them from the spec; while paused none of them fires' }),
  recentActions: z.array(
    z.object({
      runId: z.string(),
      scheduledAt: z.string().meta({ description: 'The fire time the run is for (jitter included)' }),
      startedAt: z.string(),
    }),
  ),
  runs: z.object({
    total: z.number().int().meta({ description: 'How many runs the schedule has started (fire times, triggers and backfills)' }),
    skippedOverlap: z.number().int(),
    missedCatchupWindow: z.number().int(),
  }),
  links: linksSchema,
});
export type ScheduleView = z.infer<typeof scheduleViewSchema>;

export const scheduleSummarySchema = z.object({
  id: z.string(),
  runbook: z.string().nullable(),
  paused: z.boolean(),
  note: z.string(),
  nextFireTime: z.string().nullable(),
  links: linksSchema,
});
export type ScheduleSummary = z.infer<typeof scheduleSummarySchema>;

export const scheduleListSchema = z.object({ schedules: z.array(scheduleSummarySchema) });
export type ScheduleList = z.infer<typeof scheduleListSchema>;

export const scheduleActionAcceptedSchema = z.object({
  id: z.string(),
  action: z.enum(['trigger', 'backfill']),
  requestedAt: z.string(),
  links: linksSchema,
});
export type ScheduleActionAccepted = z.infer<typeof scheduleActionAcceptedSchema>;

const error = (description: string) => ({ description, schema: errorBodySchema });
const notFound = error('No such schedule');
const unavailable = error('Temporal is not answering');
const scheduler = { anyRole: ['scheduler'] } as const satisfies RouteDefinition['access'];

/** The most runs one backfill may start: a wider span is refused (400 `end`), not started by the thousand. */
export const MAX_BACKFILL_RUNS = 100;

export const scheduleRoutes = {
  create: defineRoute({
    operationId: 'createSchedule',
    method: 'post',
    path: '/v1/schedules',
    summary: 'Create a schedule',
    description:
      "Runs a runbook on a calendar. The input is validated now with the runbook's own schema (a bad input is refused " +
      'here, not at the first fire time). Each fire starts a run `<runbook>-sched-<id>-<fire time>` requested by the creator.',
    tag: 'schedules',
    access: scheduler,
    body: createScheduleBodySchema,
    documentedBody: createScheduleDocumentedBodySchema,
    status: 201,
    responses: {
      201: {
        description: 'The schedule was created',
        schema: scheduleViewSchema,
        headers: { Location: { description: 'The schedule', schema: { type: 'string' } } },
      },
      400: error('The body, the spec or the runbook input is invalid; issues name each field'),
      404: error('No such runbook'),
      409: error('A schedule with this id already exists'),
      503: unavailable,
    },
  }),
  list: defineRoute({
    operationId: 'listSchedules',
    method: 'get',
    path: '/v1/schedules',
    summary: 'List schedules',
    description: "The schedules of this deployment's task queue, by id, from Temporal visibility (eventually consistent).",
    tag: 'schedules',
    access: 'authenticated',
    query: listSchedulesQuerySchema,
    status: 200,
    responses: { 200: { description: 'The schedules', schema: scheduleListSchema }, 503: unavailable },
  }),
  get: defineRoute({
    operationId: 'getSchedule',
    method: 'get',
    path: '/v1/schedules/:id',
    summary: 'Show a schedule',
    description: 'The runbook, input, spec as given, policies, state, the next fire times, its recent runs and how many it started.',
    tag: 'schedules',
    access: 'authenticated',
    params: scheduleParamsSchema,
    query: getScheduleQuerySchema,
    status: 200,
    responses: { 200: { description: 'The schedule', schema: scheduleViewSchema }, 404: notFound, 503: unavailable },
  }),
  patch: defineRoute({
    operationId: 'updateSchedule',
    method: 'patch',
    path: '/v1/schedules/:id',
    summary: 'Change a schedule',
    description:
      "A new input is validated with the runbook's schema (its runs are then requested by the caller); a spec or note " +
      'replaces the old one; policies given replace those policies. Runs already started are not changed.',
    tag: 'schedules',
    access: scheduler,
    params: scheduleParamsSchema,
    body: patchScheduleBodySchema,
    status: 200,
    responses: {
      200: { description: 'The schedule after the change', schema: scheduleViewSchema },
      400: error('The body, the spec or the runbook input is invalid; issues name each field'),
      404: notFound,
      503: unavailable,
    },
  }),
  delete: defineRoute({
    operationId: 'deleteSchedule',
    method: 'delete',
    path: '/v1/schedules/:id',
    summary: 'Delete a schedule',
    description: 'No run starts from it any more; runs it already started go on.',
    tag: 'schedules',
    access: scheduler,
    params: scheduleParamsSchema,
    status: 204,
    responses: { 204: { description: 'Deleted' }, 404: notFound, 503: unavailable },
  }),
  pause: defineRoute({
    operationId: 'pauseSchedule',
    method: 'post',
    path: '/v1/schedules/:id/pause',
    summary: 'Pause a schedule',
    description: 'No run starts at its fire times until it is unpaused (trigger and backfill still start runs).',
    tag: 'schedules',
    access: scheduler,
    params: scheduleParamsSchema,
    body: pauseScheduleBodySchema,
    status: 200,
    responses: { 200: { description: 'The schedule, paused', schema: scheduleViewSchema }, 404: notFound, 503: unavailable },
  }),
  unpause: defineRoute({
    operationId: 'unpauseSchedule',
    method: 'post',
    path: '/v1/schedules/:id/unpause',
    summary: 'Unpause a schedule',
    description: 'Fire times missed while paused are not made up (backfill them if needed).',
    tag: 'schedules',
    access: scheduler,
    params: scheduleParamsSchema,
    body: pauseScheduleBodySchema,
    status: 200,
    responses: { 200: { description: 'The schedule, unpaused', schema: scheduleViewSchema }, 404: notFound, 503: unavailable },
  }),
  trigger: defineRoute({
    operationId: 'triggerSchedule',
    method: 'post',
    path: '/v1/schedules/:id/trigger',
    summary: 'Run a schedule now',
    description: 'Starts one run now, with the schedule input, even when the schedule is paused.',
    tag: 'schedules',
    access: scheduler,
    params: scheduleParamsSchema,
    body: triggerScheduleBodySchema,
    status: 202,
    responses: { 202: { description: 'The run was requested', schema: scheduleActionAcceptedSchema }, 404: notFound, 503: unavailable },
  }),
  backfill: defineRoute({
    operationId: 'backfillSchedule',
    method: 'post',
    path: '/v1/schedules/:id/backfill',
    summary: 'Backfill a schedule',
    description:
      'Starts the runs of every fire time from start to end (both included) as if that time were passing now; ' +
      `overlap defaults to allow_all. At most ${MAX_BACKFILL_RUNS} runs (a wider span is a 400 on end, and nothing starts).`,
    tag: 'schedules',
    access: scheduler,
    params: scheduleParamsSchema,
    body: backfillScheduleSchema,
    status: 202,
    responses: { 202: { description: 'The runs were requested', schema: scheduleActionAcceptedSchema }, 404: notFound, 503: unavailable },
  }),
};
