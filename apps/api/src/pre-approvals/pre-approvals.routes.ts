import { createPreApprovalSchema, preApprovalSchema } from '@runbooks/contracts';
import { z } from 'zod';
import { errorBodySchema } from '../http/errors';
import { defineRoute } from '../http/route';
import { scheduleParamsSchema } from '../schedules/schedules.routes';

export const createPreApprovalBodySchema = createPreApprovalSchema.strict();
/** As clients see one: without the API's signature, which only the workers read. */
export const preApprovalViewSchema = preApprovalSchema.omit({ assertion: true });
export const preApprovalListSchema = z.object({ preApprovals: z.array(preApprovalViewSchema) });

const error = (description: string) => ({ description, schema: errorBodySchema });

export const preApprovalRoutes = {
  create: defineRoute({
    operationId: 'preApproveSchedule',
    method: 'post',
    path: '/v1/schedules/:id/pre-approvals',
    summary: "Approve a schedule's next run (or one fire time) ahead",
    description:
      'When the run reaches the gate it finds the approval already given, recorded with who and when. ' +
      "The approval is bound to the schedule's current input: if the input changes, it is void and the run waits for an approver. " +
      "Used once. Nobody may approve ahead the runs they request (whoever last set the schedule's input).",
    tag: 'schedules',
    access: { anyRole: ['approver'] },
    params: scheduleParamsSchema,
    body: createPreApprovalBodySchema,
    status: 201,
    responses: {
      201: { description: 'The approval given ahead', schema: preApprovalViewSchema },
      400: error('Not a gate of this runbook, or a fire time in the past'),
      403: error("The caller requests the schedule's runs, or lacks the approver role"),
      404: error('No such schedule'),
    },
  }),
  list: defineRoute({
    operationId: 'listPreApprovals',
    method: 'get',
    path: '/v1/schedules/:id/pre-approvals',
    summary: 'Approvals given ahead for a schedule, used or not',
    tag: 'schedules',
    access: 'authenticated',
    params: scheduleParamsSchema,
    status: 200,
    responses: { 200: { description: 'The approvals given ahead', schema: preApprovalListSchema }, 404: error('No such schedule') },
  }),
} as const;
