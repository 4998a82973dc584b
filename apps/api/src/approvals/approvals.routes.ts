import { gateRecordSchema } from '@runbooks/contracts';
import { z } from 'zod';
import { errorBodySchema } from '../http/errors';
import { defineRoute } from '../http/route';

export const listApprovalsQuerySchema = z.object({ status: z.literal('pending').default('pending') }).strict();

export const pendingApprovalSchema = gateRecordSchema
  .pick({ title: true, openedAt: true, deadline: true, allowedRoles: true, requiredApprovals: true, decisions: true, inputSha256: true })
  .extend({
    runId: z.string(),
    runbook: z.string(),
    gateId: z.string(),
    requestedBy: z.object({ id: z.string(), displayName: z.string() }),
  });
export type PendingApproval = z.infer<typeof pendingApprovalSchema>;

export const approvalRoutes = {
  list: defineRoute({
    operationId: 'listApprovals',
    method: 'get',
    path: '/v1/approvals',
    summary: 'List the approvals waiting for me',
    description:
      "Pending gates of running runs that the caller may decide: the caller holds one of the gate's roles (or admin), " +
      'did not request the run, and has not decided the gate yet. Decide with POST /v1/runs/{id}/approvals/{gateId}.',
    tag: 'approvals',
    access: 'authenticated',
    query: listApprovalsQuerySchema,
    status: 200,
    responses: {
      200: { description: 'The approvals the caller may decide', schema: z.object({ approvals: z.array(pendingApprovalSchema) }) },
      400: { description: 'Invalid filter', schema: errorBodySchema },
      503: { description: 'The worker (or Temporal) is not answering', schema: errorBodySchema },
    },
  }),
};
