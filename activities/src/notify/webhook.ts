import { ApplicationFailure } from '@temporalio/common';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { NotifyInput, NotifyResult } from '../types';

/** Delivers a runbook notification somewhere people (or their tools) will see it. */
export interface Notifier {
  send(notification: NotifyInput): Promise<NotifyResult>;
}

export const NotifyFailureType = {
  /** Network error, timeout, 5xx, 408 or 429: worth retrying. */
  failed: 'NotificationFailed',
  /** Any other 4xx: the receiver refuses this message and will keep refusing it. */
  rejected: 'NotificationRejected',
} as const;

const WEBHOOK_TIMEOUT_MS = 10_000;
/** Slack's block limits; past them it refuses the whole message. */
const SLACK_LIMITS = { headerChars: 150, sectionChars: 3000, fields: 10, fieldChars: 2000 };
/** How much of a refusing receiver's answer an error quotes. */
const RESPONSE_EXCERPT_CHARS = 200;

/**
 * POSTs each notification as JSON to a webhook. The body is Slack-compatible (`text` and `blocks`)
 * and carries the structured fields for any other receiver. The URL is treated as a secret
 * (Slack's embed a token): errors name its host only.
 */
export class WebhookNotifier implements Notifier {
  private readonly host: string;

  constructor(private readonly url: string) {
    this.host = new URL(url).host;
  }

  async send(notification: NotifyInput): Promise<NotifyResult> {
    const where = `the notification webhook at ${this.host}`;
    let response: Response;
    try {
      response = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': notification.idempotencyKey },
        body: JSON.stringify(webhookBody(notification)),
        signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
      });
    } catch (error) {
      const reason =
        (error as Error).name === 'TimeoutError'
          ? `did not answer within ${WEBHOOK_TIMEOUT_MS / 1000} s`
          : `cannot be reached (${networkCause(error)})`;
      throw ApplicationFailure.retryable(`${where} ${reason}`, NotifyFailureType.failed);
    }
    if (response.ok) {
      await response.body?.cancel();
      return { delivered: true, channel: 'webhook', status: response.status };
    }
    const answer = (await response.text().catch(() => '')).slice(0, RESPONSE_EXCERPT_CHARS);
    const message = `${where} answered HTTP ${response.status}${answer ? `: ${answer}` : ''}`;
    const refusesForGood = response.status >= 400 && response.status < 500 && ![408, 429].includes(response.status);
    throw refusesForGood
      ? ApplicationFailure.nonRetryable(message, NotifyFailureType.rejected)
      : ApplicationFailure.retryable(message, NotifyFailureType.failed);
  }
}

function webhookBody(notification: NotifyInput) {
  const { runId, kind, recipients, subject, text, fields = {}, idempotencyKey } = notification;
  const facts = Object.entries(fields);
  return {
    text: `${subject}\n${text}`,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: clip(subject, SLACK_LIMITS.headerChars) } },
      { type: 'section', text: { type: 'mrkdwn', text: clip(text, SLACK_LIMITS.sectionChars) } },
      ...(facts.length > 0
        ? [
            {
              type: 'section',
              fields: facts.slice(0, SLACK_LIMITS.fields).map(([key, value]) => ({
                type: 'mrkdwn',
                text: clip(`*${key}*\n${value}`, SLACK_LIMITS.fieldChars),
              })),
            },
          ]
        : []),
      { type: 'context', elements: [{ type: 'mrkdwn', text: `For: ${recipients.join(', ')} · run ${runId}` }] },
    ],
    runId,
    kind,
    recipients,
    subject,
    fields,
    idempotencyKey,
  };
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** fetch hides the socket error (ECONNREFUSED...) in `cause`. */
function networkCause(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}

/**
 * Appends each notification as one JSON line to a file: the channel when no webhook is
 * configured, so every notification still leaves a trace someone can read or ship.
 */
export class LogNotifier implements Notifier {
  constructor(private readonly file: string) {}

  async send(notification: NotifyInput): Promise<NotifyResult> {
    const channel = `log:${this.file}`;
    await mkdir(path.dirname(this.file), { recursive: true });
    // A retry after a lost worker finds the notice already written under its key: written once.
    const key = `"idempotencyKey":${JSON.stringify(notification.idempotencyKey)}`;
    const written = await readFile(this.file, 'utf8').catch(() => '');
    if (notification.idempotencyKey && written.includes(key)) return { delivered: true, channel };
    await appendFile(this.file, `${JSON.stringify({ at: new Date().toISOString(), ...notification })}\n`);
    return { delivered: true, channel };
  }
}
