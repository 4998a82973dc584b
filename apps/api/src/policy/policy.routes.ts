import { restoreTargetPolicySchema } from '@runbooks/contracts';
import { z } from 'zod';
import { errorBodySchema } from '../http/errors';
import { defineRoute } from '../http/route';

export const restoreTargetPolicyReadSchema = restoreTargetPolicySchema.and(
  z.object({ updatedAt: z.string().nullable().meta({ description: 'When the policy was last written; null when it never was' }) }),
);
export type RestoreTargetPolicyRead = z.infer<typeof restoreTargetPolicyReadSchema>;

export const restoreTargetPolicyReplacedSchema = z.object({
  rules: z.number().int().nonnegative().meta({ description: 'How many repositories the policy now names' }),
  updatedAt: z.string(),
});
export type RestoreTargetPolicyReplaced = z.infer<typeof restoreTargetPolicyReplacedSchema>;

const error = (description: string) => ({ description, schema: errorBodySchema });

export const policyRoutes = {
  readRestoreTargets: defineRoute({
    operationId: 'getRestoreTargetPolicy',
    method: 'get',
    path: '/v1/policy/restore-targets',
    summary: 'Read where restores may write',
    description:
      'Per backup repository (its url exactly as launches give it), the folders a data-restore may write into. A target ' +
      'is allowed when, with symlinks resolved on the checking machine, it is one of its repository’s roots or lies ' +
      'under one. System folders (/, /etc, /usr, /var/lib, ...) and the service’s own data folder are refused whatever ' +
      'the policy says; a repository the policy does not name may restore nowhere. The ETag header is the policy ' +
      'version: send it back as If-Match on PUT.',
    tag: 'policy',
    access: { anyRole: ['admin'] },
    status: 200,
    responses: { 200: { description: 'The restore target policy', schema: restoreTargetPolicyReadSchema } },
  }),
  replaceRestoreTargets: defineRoute({
    operationId: 'replaceRestoreTargetPolicy',
    method: 'put',
    path: '/v1/policy/restore-targets',
    summary: 'Replace where restores may write',
    description:
      'The whole policy, validated (unknown fields refused, one rule per repository, absolute roots) and written ' +
      'atomically. Launches and schedules are checked against it at once; running restores check it again on their ' +
      'worker right before the swap, so removing a root stops restores into it that were already approved. With ' +
      'If-Match (the ETag of GET), the write applies only if nobody changed the policy since (else 412).',
    tag: 'policy',
    access: { anyRole: ['admin'] },
    body: restoreTargetPolicySchema,
    status: 200,
    responses: {
      200: { description: 'The policy was replaced', schema: restoreTargetPolicyReplacedSchema },
      400: error('The policy is invalid; issues name each field'),
      412: error('If-Match names a version that is no longer the current one: read the policy again'),
    },
  }),
};
