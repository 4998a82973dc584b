import { z } from 'zod';
import { defineRoute } from '../http/route';

export const healthBodySchema = z.object({ status: z.literal('ok') });
export const readinessBodySchema = z.object({ status: z.literal('ready') });
export const notReadyBodySchema = z.object({ status: z.literal('unavailable'), reason: z.string() });

export const healthRoutes = {
  liveness: defineRoute({
    operationId: 'getHealth',
    method: 'get',
    path: '/healthz',
    summary: 'Check the process is up',
    description: 'Answers without calling Temporal.',
    tag: 'health',
    access: 'public',
    status: 200,
    responses: { 200: { description: 'The process is up', schema: healthBodySchema } },
  }),
  readiness: defineRoute({
    operationId: 'getReadiness',
    method: 'get',
    path: '/readyz',
    summary: 'Check Temporal answers',
    description: 'Ready when the Temporal server answers getSystemInfo within 2 s.',
    tag: 'health',
    access: 'public',
    status: 200,
    responses: {
      200: { description: 'Temporal answers', schema: readinessBodySchema },
      503: { description: 'Temporal does not answer', schema: notReadyBodySchema },
    },
  }),
};
