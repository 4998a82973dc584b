import { changeFreezeSchema, isoInstant, maintenanceWindowSchema } from '@runbooks/contracts';
import { z } from 'zod';
import { errorBodySchema } from '../http/errors';
import { defineRoute, type RouteDefinition } from '../http/route';

export const calendarNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be lowercase letters, digits and dashes (at most 63)');

export const calendarNameParamsSchema = z.object({ name: calendarNameSchema });

/** A window as PUT takes it: the name is the path's (a name in the body must match it). */
export const putWindowBodySchema = maintenanceWindowSchema.omit({ name: true }).extend({ name: calendarNameSchema.optional() }).strict();

/** A freeze as PUT takes it: the name is the path's (a name in the body must match it). */
export const putFreezeBodySchema = changeFreezeSchema.omit({ name: true }).extend({ name: calendarNameSchema.optional() }).strict();

export const windowVerdictSchema = z.object({
  open: z.boolean(),
  reason: z.string(),
  until: z.string().optional().meta({ description: 'When the verdict next changes (UTC); absent: not foreseen' }),
});

export const windowViewSchema = maintenanceWindowSchema.extend({
  verdict: windowVerdictSchema.meta({ description: 'Whether changes may be made under this window (and the freezes) at evaluatedAt' }),
});
export type WindowView = z.infer<typeof windowViewSchema>;

export const calendarViewSchema = z.object({
  evaluatedAt: z.string(),
  verdict: windowVerdictSchema.meta({ description: 'Changes without a window: only the change freezes apply' }),
  windows: z.array(windowViewSchema),
  freezes: z.array(changeFreezeSchema),
});
export type CalendarView = z.infer<typeof calendarViewSchema>;

export const calendarQuerySchema = z
  .object({
    at: isoInstant().optional().meta({ description: 'Evaluate the verdicts at this instant instead of now' }),
  })
  .strict();

const error = (description: string) => ({ description, schema: errorBodySchema });
const writer = { anyRole: ['scheduler'] } as const satisfies RouteDefinition['access'];
const unreadable = error('The calendar stored on the server is invalid');
const stale = error('If-Match names a calendar version that is no longer the current one: read the calendar again');
/** Said of every write: optimistic concurrency on the calendar version. */
const ifMatchNote =
  ' With If-Match (the ETag of GET /v1/maintenance: the calendar version), the write applies only if the calendar has not ' +
  'changed since (else 412); without it, it applies unconditionally. The response carries the new ETag.';

export const maintenanceRoutes = {
  get: defineRoute({
    operationId: 'getMaintenanceCalendar',
    method: 'get',
    path: '/v1/maintenance',
    summary: 'Show the maintenance calendar',
    description:
      'The maintenance windows, each with its verdict now (open or not, why, and until when), and the change freezes. ' +
      'Patching runs wait for their window and never change anything during a freeze.',
    tag: 'maintenance',
    access: 'authenticated',
    query: calendarQuerySchema,
    status: 200,
    responses: { 200: { description: 'The calendar', schema: calendarViewSchema }, 500: unreadable },
  }),
  putWindow: defineRoute({
    operationId: 'putMaintenanceWindow',
    method: 'put',
    path: '/v1/maintenance/windows/:name',
    summary: 'Create or replace a maintenance window',
    description:
      'Opens at every occurrence of `opens` (cron, 5 fields, or 6 with seconds first) in `timezone`, for `durationSeconds`. ' +
      'Running rollouts re-read the calendar, so a change applies to them too.' +
      ifMatchNote,
    tag: 'maintenance',
    access: writer,
    params: calendarNameParamsSchema,
    body: putWindowBodySchema,
    status: 200,
    responses: {
      200: { description: 'The window as stored, with its verdict now', schema: windowViewSchema },
      400: error('The window is invalid; issues name each field'),
      412: stale,
      500: unreadable,
    },
  }),
  deleteWindow: defineRoute({
    operationId: 'deleteMaintenanceWindow',
    method: 'delete',
    path: '/v1/maintenance/windows/:name',
    summary: 'Delete a maintenance window',
    description: 'Runs that name it can no longer check it: they hold, and say so, until it exists again.' + ifMatchNote,
    tag: 'maintenance',
    access: writer,
    params: calendarNameParamsSchema,
    status: 204,
    responses: { 204: { description: 'Deleted' }, 404: error('No such window'), 412: stale, 500: unreadable },
  }),
  putFreeze: defineRoute({
    operationId: 'putChangeFreeze',
    method: 'put',
    path: '/v1/maintenance/freezes/:name',
    summary: 'Create or replace a change freeze',
    description: 'Named periods during which no change may be made; a rollout already running pauses between hosts.' + ifMatchNote,
    tag: 'maintenance',
    access: writer,
    params: calendarNameParamsSchema,
    body: putFreezeBodySchema,
    status: 200,
    responses: {
      200: { description: 'The freeze as stored', schema: changeFreezeSchema },
      400: error('The freeze is invalid; issues name each field'),
      412: stale,
      500: unreadable,
    },
  }),
  deleteFreeze: defineRoute({
    operationId: 'deleteChangeFreeze',
    method: 'delete',
    path: '/v1/maintenance/freezes/:name',
    summary: 'Delete a change freeze',
    description: 'Rollouts waiting only for this freeze go on.' + ifMatchNote,
    tag: 'maintenance',
    access: writer,
    params: calendarNameParamsSchema,
    status: 204,
    responses: { 204: { description: 'Deleted' }, 404: error('No such freeze'), 412: stale, 500: unreadable },
  }),
};
