import {
  abortRolloutArgsSchema,
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
