import { z } from 'zod';
import { errorBodySchema } from '../http/errors';
import { defineRoute } from '../http/route';

/**
 * What Slack posts when someone clicks a button (a `block_actions` payload). Slack adds fields
 * of its own over time, so fields beyond these are ignored rather than refused.
 */
export const slackBlockActionsSchema = z.object({
  type: z.literal('block_actions'),
  user: z.object({ id: z.string().min(1), username: z.string().optional(), name: z.string().optional() }),
  actions: z.array(z.object({ action_id: z.string().min(1), value: z.string().optional() })).min(1),
  response_url: z.string().url(),
  message: z.object({ blocks: z.array(z.record(z.string(), z.unknown())).optional() }).optional(),
});
export type SlackBlockActions = z.infer<typeof slackBlockActionsSchema>;

export const slackInteractionResultSchema = z.object({
  outcome: z.enum(['approved', 'rejected', 'recorded', 'refused', 'ignored']).meta({
    description:
      'approved / rejected: the gate closed so; recorded: an approval counted, more needed; refused: the run refused it; ignored: a link click',
  }),
  message: z.string(),
});
export type SlackInteractionResult = z.infer<typeof slackInteractionResultSchema>;

export const slackRoutes = {
  interactions: defineRoute({
    operationId: 'slackInteractions',
    method: 'post',
    path: '/v1/integrations/slack/interactions',
    summary: 'Receive a Slack button click',
    description:
      'Slack posts `application/x-www-form-urlencoded` with one field, `payload` (JSON of a block_actions interaction). ' +
      'The request must carry a valid X-Slack-Signature over X-Slack-Request-Timestamp and the raw body (signing secret, ' +
      '5-minute window). The Slack user is mapped to a principal (RUNBOOKS_SLACK_USERS_FILE) and the decision is the ' +
      'same Update as POST /v1/runs/{id}/approvals/{gateId}: self-approval and missing roles are refused the same way. ' +
      'The outcome replaces the buttons through response_url (a refusal is shown to the clicker alone).',
    tag: 'integrations',
    access: 'public',
    status: 200,
    responses: {
      200: { description: 'Handled; the outcome is also posted to response_url', schema: slackInteractionResultSchema },
      400: { description: 'The payload is not a block_actions interaction of a runbooks notice', schema: errorBodySchema },
      401: { description: 'Signature missing, wrong, or outside the 5-minute window', schema: errorBodySchema },
      404: { description: 'The Slack integration is not configured', schema: errorBodySchema },
      503: { description: 'The worker (or Temporal) is not answering', schema: errorBodySchema },
    },
  }),
};
