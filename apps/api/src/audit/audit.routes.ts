import { isoInstant, singleLine } from '@runbooks/contracts';
import { z } from 'zod';
import { errorBodySchema } from '../http/errors';
import { defineRoute } from '../http/route';
import { pageTokenSchema } from '../inventory/inventory.routes';

export const MAX_AUDIT_PAGE = 500;

export const auditQuerySchema = z
  .object({
    actor: singleLine(200).min(1).optional().meta({ description: 'Only entries by this principal id (or `system`)' }),
    action: singleLine(200).min(1).optional().meta({ description: 'Only this action, e.g. replaceInventory, decideApproval' }),
    target: singleLine(2000).min(1).optional().meta({ description: 'Only entries about this target (a request path, or a run id)' }),
    since: isoInstant().optional().meta({ description: 'Entries at or after this instant' }),
    until: isoInstant().optional().meta({ description: 'Entries before this instant' }),
    pageSize: z.coerce.number().int().min(1).max(MAX_AUDIT_PAGE).default(100),
    pageToken: pageTokenSchema.optional(),
  })
  .strict();

export const auditEntrySchema = z.object({
  id: z.string(),
  at: z.string(),
  actor: z.string(),
  action: z.string(),
  target: z.string(),
  detail: z.unknown(),
});
export const auditPageSchema = z.object({ entries: z.array(auditEntrySchema), nextPageToken: z.string().nullable() });
export type AuditPage = z.infer<typeof auditPageSchema>;

export const auditRoutes = {
  list: defineRoute({
    operationId: 'listAudit',
    method: 'get',
    path: '/v1/audit',
    summary: 'Read the audit log',
    description:
      'Every operator action and decision, newest first: each write through the API (launches, approvals, rollout ' +
      'steering, cancels, schedule, inventory, calendar and token changes), done or refused, with who, what, on what and ' +
      "how it ended; and the runs' use of approvals given ahead. Entries are only ever appended.",
    tag: 'admin',
    access: { anyRole: ['admin'] },
    query: auditQuerySchema,
    status: 200,
    responses: {
      200: { description: 'One page of entries', schema: auditPageSchema },
      400: { description: 'A bad filter', schema: errorBodySchema },
    },
  }),
} as const;
