import type { NotifyInput } from '../types';

/** Slack's block limits; past them it refuses the whole message. */
const SLACK_LIMITS = { headerChars: 150, sectionChars: 3000, fields: 10, fieldChars: 2000 };

/** What an Approve / Reject button asks for; its action id carries the run and the gate. */
export type SlackDecision = 'approve' | 'reject';

const ACTION_PREFIX = 'runbooks';

/**
 * `runbooks/approve/<runId>/<gateId>`: `/` appears in neither a run id nor a gate id, so the
 * three parts come back apart without ambiguity.
 */
export function approvalActionId(decision: SlackDecision | 'open', runId: string, gateId: string): string {
  return [ACTION_PREFIX, decision, runId, gateId].join('/');
}

export function parseApprovalActionId(actionId: string): { decision: SlackDecision | 'open'; runId: string; gateId: string } | undefined {
  const parts = actionId.split('/');
  if (parts.length !== 4 || parts[0] !== ACTION_PREFIX) return undefined;
  const [, decision, runId, gateId] = parts;
  if (decision !== 'approve' && decision !== 'reject' && decision !== 'open') return undefined;
  if (!runId || !gateId) return undefined;
  return { decision, runId, gateId };
}

/** The console page of one approval, the deep link notices carry. */
export function consoleApprovalUrl(consoleUrl: string, runId: string, gateId: string): string {
  return `${consoleUrl.replace(/\/+$/, '')}/console/approvals/${encodeURIComponent(runId)}/${encodeURIComponent(gateId)}`;
}

export interface SlackMessage {
  text: string;
  blocks: Record<string, unknown>[];
}

/**
 * A notification as a Block Kit message. One that asks for an approval decision (it names a
 * gate) gets Approve / Reject buttons, which Slack posts to the API's interactions endpoint,
 * and a link to the console page of the approval when the console URL is known.
 */
export function slackMessage(notification: NotifyInput, consoleUrl?: string): SlackMessage {
  const { runId, recipients, subject, text, fields = {}, gateId } = notification;
  const facts = Object.entries(fields);
  const blocks: Record<string, unknown>[] = [
    { type: 'header', text: { type: 'plain_text', text: clip(subject, SLACK_LIMITS.headerChars) } },
    { type: 'section', text: { type: 'mrkdwn', text: clip(text, SLACK_LIMITS.sectionChars) } },
  ];
  if (facts.length > 0) {
    blocks.push({
      type: 'section',
      fields: facts
        .slice(0, SLACK_LIMITS.fields)
        .map(([key, value]) => ({ type: 'mrkdwn', text: clip(`*${key}*\n${value}`, SLACK_LIMITS.fieldChars) })),
    });
  }
  if (gateId) blocks.push(approvalActions(runId, gateId, consoleUrl));
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `For: ${recipients.join(', ') || 'approvers'} · run ${runId}` }] });
  return { text: `${subject}\n${text}`, blocks };
}

function approvalActions(runId: string, gateId: string, consoleUrl: string | undefined): Record<string, unknown> {
  const button = (decision: SlackDecision) => ({
    type: 'button',
    action_id: approvalActionId(decision, runId, gateId),
    text: { type: 'plain_text', text: decision === 'approve' ? 'Approve' : 'Reject' },
    style: decision === 'approve' ? 'primary' : 'danger',
    value: JSON.stringify({ runId, gateId, decision }),
    confirm: {
      title: { type: 'plain_text', text: decision === 'approve' ? 'Approve?' : 'Reject?' },
      text: { type: 'mrkdwn', text: `${decision === 'approve' ? 'Approve' : 'Reject'} *${gateId}* of run ${runId}?` },
      confirm: { type: 'plain_text', text: decision === 'approve' ? 'Approve' : 'Reject' },
      deny: { type: 'plain_text', text: 'Cancel' },
    },
  });
  const elements: Record<string, unknown>[] = [button('approve'), button('reject')];
  if (consoleUrl) {
    elements.push({
      type: 'button',
      action_id: approvalActionId('open', runId, gateId),
      text: { type: 'plain_text', text: 'Open in console' },
      url: consoleApprovalUrl(consoleUrl, runId, gateId),
    });
  }
  return { type: 'actions', block_id: 'runbooks-approval', elements };
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
