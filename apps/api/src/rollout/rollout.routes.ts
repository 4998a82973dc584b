import { z } from 'zod';
import {
  abortRolloutArgsSchema,
  hostRecordSchema,
  hostStateSchema,
  pauseRolloutArgsSchema,
  resumeRolloutArgsSchema,
  rolloutStateSchema,
  setConcurrencyArgsSchema,
  skipHostArgsSchema,
} from '@runbooks/contracts';
import { errorBodySchema } from '../http/errors';
import { defineRoute, type RouteDefinition } from '../http/route';
import { runParamsSchema } from '../runs/runs.routes';

/** The update's own arguments without the principal and its assertion: the API adds the caller, signed. */
export const pauseRolloutBodySchema = pauseRolloutArgsSchema.omit({ principal: true, assertion: true }).strict();
export const resumeRolloutBodySchema = resumeRolloutArgsSchema.omit({ principal: true, assertion: true }).strict();
export const setConcurrencyBodySchema = setConcurrencyArgsSchema.omit({ principal: true, assertion: true }).strict();
export const skipHostBodySchema = skipHostArgsSchema.omit({ principal: true, assertion: true }).strict();
export const abortRolloutBodySchema = abortRolloutArgsSchema.omit({ principal: true, assertion: true }).strict();

const error = (description: string) => ({ description, schema: errorBodySchema });

/** The most host records one page holds. */
export const MAX_HOSTS_PAGE_SIZE = 500;

export const runHostsQuerySchema = z
  .object({
    state: hostStateSchema.optional().meta({ description: 'Only hosts in this state' }),
    page: z.coerce.number().int().min(1).max(1_000_000).default(1).meta({ description: 'The page number, from 1' }),
    pageSize: z.coerce.number().int().min(1).max(MAX_HOSTS_PAGE_SIZE).default(100),
  })
  .strict();
export type RunHostsQuery = z.output<typeof runHostsQuerySchema>;

export const runHostPageSchema = z.object({
  runId: z.string(),
  state: hostStateSchema.nullable().meta({ description: 'The state filter of this page; null: every host' }),
  page: z.number().int(),
  pageSize: z.number().int(),
  total: z.number().int().meta({ description: 'Hosts that match the filter, over all pages' }),
  pages: z.number().int(),
  hosts: z.array(hostRecordSchema).meta({ description: "In the run's plan order: waves in order, hosts in inventory order" }),
  next: z.string().nullable().meta({ description: 'The next page, or null on the last' }),
});
export type RunHostPage = z.infer<typeof runHostPageSchema>;

/** What every steering route shares: a technician acts on a running run and gets the rollout state back. */
const steering = {
  method: 'post',
  tag: 'rollouts',
  access: { anyRole: ['technician'] },
  params: runParamsSchema,
  status: 200,
} as const satisfies Partial<RouteDefinition>;

const steeringResponses = {
  200: { description: 'The rollout state after the change', schema: rolloutStateSchema },
  403: error('The caller lacks the technician role'),
  404: error('No such run (or, for skip, no such host in the rollout)'),
  409: error('The run is not a fleet rollout, it has ended, or the rollout is over'),
  503: error('The worker (or Temporal) is not answering; try again later'),
};

const recorded = 'The run records who did it, when and why in rollout.operatorActions.';

export const rolloutRoutes = {
  pause: defineRoute({
    ...steering,
    operationId: 'pauseRollout',
    path: '/v1/runs/:id/rollout/pause',
    summary: 'Pause a rollout',
    description: `No new host is started; hosts being patched finish. ${recorded}`,
    body: pauseRolloutBodySchema,
    responses: steeringResponses,
  }),
  resume: defineRoute({
    ...steering,
    operationId: 'resumeRollout',
    path: '/v1/runs/:id/rollout/resume',
    summary: 'Resume a paused rollout',
    description: recorded,
    body: resumeRolloutBodySchema,
    responses: steeringResponses,
  }),
  concurrency: defineRoute({
    ...steering,
    operationId: 'setRolloutConcurrency',
    path: '/v1/runs/:id/rollout/concurrency',
    summary: 'Change how many hosts a rollout patches at once',
    description: `Applies to the running batch at once (1..200). ${recorded}`,
    body: setConcurrencyBodySchema,
    responses: steeringResponses,
  }),
  skip: defineRoute({
    ...steering,
    operationId: 'skipRolloutHost',
    path: '/v1/runs/:id/rollout/skip',
    summary: 'Skip a host of a rollout',
    description: `Only a host that is still pending can be skipped (409 otherwise; 404 for a host not in the rollout). ${recorded}`,
    body: skipHostBodySchema,
    responses: steeringResponses,
  }),
  hosts: defineRoute({
    operationId: 'listRunHosts',
    method: 'get',
    path: '/v1/runs/:id/hosts',
    summary: "A fleet run's hosts, page by page",
    description:
      'What happened on each host (state, wave, batch, attempts, snapshot, error, times), from the store, where the ' +
      "run's batches write it; the run's own state carries only counts and the hosts in flight. Pages are numbered " +
      'from 1 in plan order (`page`, `pageSize` up to 500); `state` filters. A host in a batch that is still running ' +
      'shows as pending until its batch ends. A run that is not a fleet rollout has no hosts.',
    tag: 'rollouts',
    access: 'authenticated',
    params: runParamsSchema,
    query: runHostsQuerySchema,
    status: 200,
    responses: {
      200: { description: 'One page of host records', schema: runHostPageSchema },
      400: error('A query parameter is invalid or unknown'),
      404: error('No such run'),
      503: error('Temporal is not answering; try again later'),
    },
  }),
  abort: defineRoute({
    ...steering,
    operationId: 'abortRollout',
    path: '/v1/runs/:id/rollout/abort',
    summary: 'Abort a rollout',
    description:
      'Stops starting hosts; hosts being patched finish. With rollback (the default) every host this run changed is ' +
      `rolled back from its snapshot; with rollback: false they are left as they are. ${recorded}`,
    body: abortRolloutBodySchema,
    responses: steeringResponses,
  }),
};
