import { HttpException, Inject, Injectable, Logger, NotFoundException, UnauthorizedException } from '@nestjs/common';
import { isLinkAction, parseApprovalActionId } from '@runbooks/activities/api-surface';
import type { GateRecord } from '@runbooks/contracts';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { z } from 'zod';
import { RequestValidationError } from '../http/errors';
import { parseNested } from '../http/route';
import { gateIdSchema, runIdSchema } from '../runs/runs.routes';
import { RunsService } from '../runs/runs.service';
import { SLACK_CONFIG, type SlackConfig } from './slack-config';
import { SlackSignatureError, verifySlackSignature } from './slack-signature';
import { slackBlockActionsSchema, type SlackBlockActions, type SlackInteractionResult } from './slack.routes';

const formSchema = z.object({ payload: z.string().min(1) });

const RESPONSE_URL_TIMEOUT_MS = 5_000;

export interface SlackInteractionRequest {
  rawBody: Buffer | undefined;
  timestamp: string | undefined;
  signature: string | undefined;
  form: unknown;
}

/**
 * Turns an Approve / Reject click in Slack into the same approval Update the API sends, as the
 * principal the Slack user is mapped to, and tells Slack the outcome through response_url.
 */
@Injectable()
export class SlackInteractionsService {
  private readonly logger = new Logger('SlackInteractions');

  constructor(
    @Inject(SLACK_CONFIG) private readonly config: SlackConfig | undefined,
    private readonly runs: RunsService,
  ) {}

  async handle(request: SlackInteractionRequest): Promise<SlackInteractionResult> {
    const config = this.config;
    if (!config) throw new NotFoundException('the Slack integration is not configured (RUNBOOKS_SLACK_SIGNING_SECRET)');
    try {
      verifySlackSignature({ signingSecret: config.signingSecret, ...request });
    } catch (error) {
      if (error instanceof SlackSignatureError) throw new UnauthorizedException(error.message);
      throw error;
    }
    const { payload: text } = parseNested(formSchema, request.form, []);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw invalid(['payload'], 'must be JSON');
    }
    const payload = parseNested(slackBlockActionsSchema, json, ['payload']);
    const actionId = payload.actions[0].action_id;
    // "Open in console" is a link; Slack reports its click too.
    if (isLinkAction(actionId)) return { outcome: 'ignored', message: 'a link was opened; nothing to decide' };
    const action = parseApprovalActionId(actionId);
    if (!action || !runIdSchema.safeParse(action.runId).success || !gateIdSchema.safeParse(action.gateId).success) {
      throw invalid(['payload', 'actions', 0, 'action_id'], 'is not an action of a runbooks approval notice');
    }
    if (!config.responseUrlPrefixes.some((prefix) => payload.response_url.startsWith(prefix))) {
      throw invalid(['payload', 'response_url'], `must start with ${config.responseUrlPrefixes.join(' or ')}`);
    }
    const { decision, runId, gateId } = action;

    const principal = config.users.get(payload.user.id);
    if (!principal) {
      const message = `your Slack account ${payload.user.id} is not linked to a runbooks principal: ask an admin to add it to the Slack users file`;
      await this.respond(payload, { response_type: 'ephemeral', replace_original: false, text: `Not recorded: ${message}` }, { runId });
      return { outcome: 'refused', message };
    }
    const about = { runId, principal: principal.id };

    let gate: GateRecord;
    try {
      gate = await this.runs.decide(runId, gateId, principal, {
        decision,
        comment: `${decision === 'approve' ? 'approved' : 'rejected'} in Slack`,
      });
    } catch (error) {
      const reason = refusalReason(error, runId);
      if (reason === undefined) throw error;
      await this.respond(payload, { response_type: 'ephemeral', replace_original: false, text: `Not recorded: ${reason}` }, about);
      return { outcome: 'refused', message: reason };
    }

    const approvals = gate.decisions.filter((d) => d.decision === 'approve').length;
    if (gate.state === 'pending') {
      const message = `your approval of ${gateId} is recorded (${approvals} of ${gate.requiredApprovals} needed)`;
      await this.respond(payload, { response_type: 'ephemeral', replace_original: false, text: message }, about);
      return { outcome: 'recorded', message };
    }
    const outcome = gate.state === 'rejected' ? 'rejected' : 'approved';
    const message = `${outcome === 'approved' ? 'Approved' : 'Rejected'} by ${principal.displayName} (${principal.id}) in Slack`;
    await this.respond(payload, replacement(payload, outcome, message), about);
    return { outcome, message };
  }

  /** Slack's response_url: best effort, the decision is recorded whether or not Slack takes the update. */
  /** Tells Slack the outcome; a failure to is logged with the run and the principal it was about. */
  private async respond(
    payload: SlackBlockActions,
    body: Record<string, unknown>,
    about: { runId: string; principal?: string },
  ): Promise<void> {
    try {
      const response = await fetch(payload.response_url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(RESPONSE_URL_TIMEOUT_MS),
      });
      await response.body?.cancel();
      if (!response.ok) this.logger.warn({ msg: `Slack's response_url answered HTTP ${response.status}`, ...about });
    } catch (error) {
      this.logger.warn({ msg: `Slack's response_url cannot be reached: ${(error as Error).message}`, ...about });
    }
  }
}

/** The original notice without its buttons, and the outcome in their place. */
function replacement(payload: SlackBlockActions, outcome: 'approved' | 'rejected', message: string): Record<string, unknown> {
  const kept = (payload.message?.blocks ?? []).filter((block) => block.type !== 'actions');
  const mark = outcome === 'approved' ? ':white_check_mark:' : ':no_entry:';
  return {
    replace_original: true,
    text: message,
    blocks: [...kept, { type: 'section', text: { type: 'mrkdwn', text: `${mark} *${message}*` } }],
  };
}

/** Why the run refused the decision, in words for the clicker; undefined for errors that are not about the decision. */
function refusalReason(error: unknown, runId: string): string | undefined {
  if (error instanceof WorkflowUpdateFailedError) return error.cause?.message ?? error.message;
  if (error instanceof WorkflowNotFoundError) return `run ${runId} not found`;
  if (error instanceof HttpException && error.getStatus() < 500) return error.message;
  return undefined;
}

function invalid(path: PropertyKey[], message: string): RequestValidationError {
  return new RequestValidationError('request body', [{ path, message }]);
}
