import { RUNBOOKS, approvalDecisionValueSchema, freeText, gateRecordSchema, runStateSchema, runStatusSchema } from '@runbooks/contracts';
import { z } from 'zod';
import { runbookNameSchema, runbookUnion } from '../catalog/catalog.routes';
import { errorBodySchema } from '../http/errors';
import { defineRoute } from '../http/route';
import { scheduleIdSchema } from '../schedules/schedules.routes';

export const runIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,254}$/, 'must be a run id as returned by POST /v1/runs');

export const gateIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/, 'must be an approval gate id, e.g. approve-restore');

export const principalIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,199}$/, 'must be a principal id');

const knownRunbookNames = RUNBOOKS.map((r) => r.name) as [string, ...string[]];

const idempotencyKeySchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9._:-]+$/, 'may hold only letters, digits and . _ : -')
  .optional()
  .meta({
    description: 'Retrying a launch with the same key (same caller, same input) returns the run it started instead of a second one.',
  });

export const launchRunBodySchema = z
  .object({
    runbook: runbookNameSchema.meta({ description: `The runbook to run: ${knownRunbookNames.join(', ')}` }),
    input: z.unknown().meta({
      description: "The runbook's input, validated with its own schema (GET /v1/runbooks/{name} shows it as inputSchema)",
    }),
    idempotencyKey: idempotencyKeySchema,
  })
  .strict();

/** The launch body as the document shows it: one shape per runbook, its input schema included. */
export const launchRunDocumentedBodySchema = runbookUnion((def) =>
  z.strictObject({ runbook: z.literal(def.name), input: def.inputSchema, idempotencyKey: idempotencyKeySchema }),
);

const runLinksSchema = z.object({ self: z.string(), report: z.string() });

export const launchedRunSchema = z.object({
  runId: z.string(),
  runbook: z.string(),
  status: runStatusSchema,
  links: runLinksSchema,
  waitsForWindow: z
    .object({
      reason: z.string().meta({ description: 'e.g. "change freeze year-end until ..." or "maintenance window sunday-night opens at ..."' }),
      until: z.string().optional().meta({ description: 'When that changes (UTC); absent: not foreseen' }),
    })
    .optional()
    .meta({
      description:
        'Present when the run starts but waits: its maintenance window is closed or a change freeze holds when it would begin. ' +
        'The run goes on by itself when the window opens.',
    }),
});
export type LaunchedRun = z.infer<typeof launchedRunSchema>;

export const listRunsQuerySchema = z
  .object({
    runbook: z.enum(knownRunbookNames).optional(),
    status: runStatusSchema.optional(),
    requestedBy: principalIdSchema.optional(),
    awaitingApproval: z
      .enum(['true', 'false'])
      .transform((v) => v === 'true')
      .optional(),
    scheduleId: scheduleIdSchema.optional().meta({ description: 'Only runs this schedule started' }),
    pageSize: z.coerce.number().int().min(1).max(100).default(20),
    pageToken: z
      .string()
      .max(8192)
      .regex(/^[A-Za-z0-9+/_-]+={0,2}$/, 'must be a nextPageToken from a previous page')
      .optional(),
  })
  .strict();
export type ListRunsQuery = z.output<typeof listRunsQuerySchema>;

export const runSummarySchema = z.object({
  runId: z.string(),
  runbook: z.string().nullable(),
  status: z.string().nullable().meta({ description: 'The RunStatus search attribute, kept current by the run' }),
  requestedBy: z.string().nullable(),
  awaitingApproval: z.boolean().nullable(),
  scheduleId: z.string().nullable().meta({ description: 'The schedule that started the run; null when launched by hand' }),
  startTime: z.string(),
  closeTime: z.string().nullable(),
  temporalStatus: z.string().meta({ description: 'The Temporal execution status, e.g. RUNNING, COMPLETED, FAILED' }),
});
export type RunSummary = z.infer<typeof runSummarySchema>;

export const runPageSchema = z.object({
  runs: z.array(runSummarySchema),
  nextPageToken: z.string().nullable(),
});

export const runDetailSchema = runStateSchema.extend({
  temporalStatus: z.string(),
  inputSha256: z
    .string()
    .nullable()
    .meta({ description: 'sha256 of the canonical JSON of the validated input, which approvals are bound to; null if not recorded' }),
});
export type RunDetail = z.infer<typeof runDetailSchema>;

export const runParamsSchema = z.object({ id: runIdSchema });

export const runDetailQuerySchema = z
  .object({
    live: z
      .enum(['true', 'false'])
      .transform((v) => v === 'true')
      .optional()
      .meta({
        description:
          "true: ask the run itself (a query through a worker: 503 when none answers). Default: the store's copy the run keeps current",
      }),
  })
  .strict();

export const cancelRunBodySchema = z.object({ reason: freeText(2000).min(1) }).strict();

export const decideApprovalBodySchema = z
  .object({
    decision: approvalDecisionValueSchema,
    comment: freeText(2000).default(''),
    inputSha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/, 'must be the sha256 of the run input as 64 lowercase hex characters')
      .optional()
      .meta({
        description:
          "The input hash the approver reviewed (GET /v1/approvals and GET /v1/runs/{id} show it on the gate as inputSha256); when given and the run's input differs, the decision is refused with 409.",
      }),
  })
  .strict();

const error = (description: string) => ({ description, schema: errorBodySchema });
const workerNotAnswering = error('The worker (or Temporal) is not answering; try again later');

export const runRoutes = {
  launch: defineRoute({
    operationId: 'launchRun',
    method: 'post',
    path: '/v1/runs',
    summary: 'Launch a run',
    description:
      'Validates the input with the runbook schema and starts the runbook workflow. With an idempotencyKey a retry ' +
      'returns the existing run (200, header Idempotent-Replay: true); the same key with a different input is a 409.',
    tag: 'runs',
    access: { anyRole: ['technician'] },
    body: launchRunBodySchema,
    documentedBody: launchRunDocumentedBodySchema,
    status: 201,
    responses: {
      201: {
        description: 'The run was started',
        schema: launchedRunSchema,
        headers: { Location: { description: 'The run', schema: { type: 'string' } } },
      },
      200: {
        description: 'A retried launch: the run this idempotencyKey started',
        schema: launchedRunSchema,
        headers: { 'Idempotent-Replay': { description: 'Always true', schema: { type: 'string', const: 'true' } } },
      },
      400: error('The body or the runbook input is invalid; issues name each field'),
      404: error('No such runbook'),
      409: error('The idempotencyKey was already used with a different input'),
      503: error('Temporal is not answering'),
    },
  }),
  list: defineRoute({
    operationId: 'listRuns',
    method: 'get',
    path: '/v1/runs',
    summary: 'List runs',
    description: 'Newest first, from Temporal visibility (eventually consistent: a run just launched may take a moment to show).',
    tag: 'runs',
    access: 'authenticated',
    query: listRunsQuerySchema,
    status: 200,
    responses: {
      200: { description: 'One page of runs', schema: runPageSchema },
      400: error('A filter is invalid'),
      503: workerNotAnswering,
    },
  }),
  get: defineRoute({
    operationId: 'getRun',
    method: 'get',
    path: '/v1/runs/:id',
    summary: 'Show a run',
    description:
      "The run state with the Temporal execution status. By default from the store's copy, which the run " +
      'hands its worker at every change (no worker is asked: it answers while workers are busy or away); ' +
      'with live=true, or for a run that has no copy, from the run itself (status query). A fleet run ' +
      'carries counts and the hosts in flight; GET /v1/runs/{id}/hosts pages its hosts.',
    tag: 'runs',
    access: 'authenticated',
    params: runParamsSchema,
    query: runDetailQuerySchema,
    status: 200,
    responses: {
      200: { description: 'The run state', schema: runDetailSchema },
      400: error('A query parameter is invalid or unknown'),
      404: error('No such run'),
      503: workerNotAnswering,
    },
  }),
  report: defineRoute({
    operationId: 'getRunReport',
    method: 'get',
    path: '/v1/runs/:id/report',
    summary: 'Report on a run',
    description:
      'Markdown by default (Accept: text/markdown, text/plain or */*); JSON with Accept: application/json. ' +
      'From the run while Temporal keeps it; afterwards, the report the run stored when it ended.',
    tag: 'runs',
    access: 'authenticated',
    params: runParamsSchema,
    status: 200,
    responses: {
      200: {
        description: 'The report',
        schema: z.object({ report: runStateSchema, markdown: z.string() }),
        content: { 'text/markdown': { schema: { type: 'string' } } },
      },
      404: error('No such run'),
      406: error('Accept names no type this report comes in'),
      503: workerNotAnswering,
    },
  }),
  cancel: defineRoute({
    operationId: 'cancelRun',
    method: 'post',
    path: '/v1/runs/:id/cancel',
    summary: 'Cancel a run',
    description: 'Records who cancels and why (an update the run validates), then cancels it; the run undoes its changes.',
    tag: 'runs',
    access: { anyRole: ['technician'] },
    params: runParamsSchema,
    body: cancelRunBodySchema,
    status: 202,
    responses: {
      202: { description: 'Cancellation requested; the run state as of the request', schema: runStateSchema },
      404: error('No such run'),
      409: error('The run has already ended'),
      503: workerNotAnswering,
    },
  }),
  decide: defineRoute({
    operationId: 'decideApproval',
    method: 'post',
    path: '/v1/runs/:id/approvals/:gateId',
    summary: 'Decide an approval gate',
    description:
      'The run validates the decision before recording it: the requester may not decide, nor someone without the ' +
      "gate's role, nor anyone twice; the gate must be pending.",
    tag: 'approvals',
    // Every role a gate may name (an incident's change is approved by the 2nd and 3rd lines): the route
    // refuses only callers no gate would take; the run checks the gate's own roles.
    access: { anyRole: ['approver', 'tier1', 'tier2', 'tier3'] },
    params: z.object({ id: runIdSchema, gateId: gateIdSchema }),
    body: decideApprovalBodySchema,
    status: 200,
    responses: {
      200: { description: 'The gate after the decision', schema: gateRecordSchema },
      403: error('The caller may not decide this gate (requester, or missing role)'),
      404: error('No such run or gate'),
      409: error("The gate is not pending, the caller already decided it, or inputSha256 is not the run's input hash"),
      503: workerNotAnswering,
    },
  }),
};
