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
/** A link button (Open in console): Slack reports its click too, and there is nothing to do. */
export function isLinkAction(actionId: string): boolean {
  return actionId.startsWith(`${ACTION_PREFIX}/open`);
}

export function approvalActionId(decision: SlackDecision | 'open', runId: string, gateId: string): string {
  return [ACTION_PREFIX, decision, runId, gateId].join('/');
}

export function parseApprovalActionId(actionId: string): { decision: SlackDecision; runId: string; gateId: string } | undefined {
  const parts = actionId.split('/');
  if (parts.length !== 4 || parts[0] !== ACTION_PREFIX) return undefined;
  const [, decision, runId, gateId] = parts;
  if (decision !== 'approve' && decision !== 'reject') return undefined;
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
  const { runId, recipients, subject, text, fields = {} } = notification;
  const gateId = approvalGateOf(notification);
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
  else if (fields.task && consoleUrl) blocks.push(openRunAction(runId, consoleUrl));
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `For: ${recipients.join(', ') || 'approvers'} · run ${runId}` }] });
  return { text: `${subject}\n${text}`, blocks };
}

/**
 * The approval gate a notice asks someone to decide: `gateId`, or the `gate` field the engine's
 * escalation notices carry. Other notices (a task's, a run's outcome) ask for no decision here.
 */
export function approvalGateOf(notification: NotifyInput): string | undefined {
  if (notification.gateId) return notification.gateId;
  const isAboutApproval = notification.kind === 'escalation' || notification.kind === 'approval-requested';
  return isAboutApproval ? notification.fields?.gate : undefined;
}

/** A task is completed with evidence in the console, not with a button: the notice links to its run. */
function openRunAction(runId: string, consoleUrl: string): Record<string, unknown> {
  return {
    type: 'actions',
    block_id: 'runbooks-run',
    elements: [
      {
        type: 'button',
        action_id: `${ACTION_PREFIX}/open-run/${runId}`,
        text: { type: 'plain_text', text: 'Open in console' },
        url: consoleRunUrl(consoleUrl, runId),
      },
    ],
  };
}

/** The console page of a run. */
export function consoleRunUrl(consoleUrl: string, runId: string): string {
  return `${consoleUrl.replace(/\/+$/, '')}/console/runs/${encodeURIComponent(runId)}`;
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
