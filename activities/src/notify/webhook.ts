import { ApplicationFailure } from '@temporalio/common';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { NotifyInput, NotifyResult } from '../types';
import { approvalGateOf, slackMessage } from './slack-blocks';

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
/** How much of a refusing receiver's answer an error quotes. */
const RESPONSE_EXCERPT_CHARS = 200;

export interface WebhookNotifierOptions {
  /** The web console's base URL: approval notices link to `/console/approvals/{run}/{gate}`. */
  consoleUrl?: string;
}

/**
 * POSTs each notification as JSON to a webhook. The body is a Slack Block Kit message (`text`
 * and `blocks`; approval notices with Approve / Reject buttons) and carries the structured fields
 * for any other receiver. The URL is treated as a secret (Slack's embed a token): errors name its host only.
 */
export class WebhookNotifier implements Notifier {
  constructor(
    private readonly url: string,
    private readonly options: WebhookNotifierOptions = {},
  ) {}

  async send(notification: NotifyInput): Promise<NotifyResult> {
    const { runId, kind, recipients, subject, fields = {}, idempotencyKey } = notification;
    const gateId = approvalGateOf(notification);
    const body = {
      ...slackMessage(notification, this.options.consoleUrl),
      runId,
      kind,
      recipients,
      subject,
      fields,
      ...(gateId ? { gateId } : {}),
      idempotencyKey,
    };
    const response = await postJson(this.url, body, { 'idempotency-key': idempotencyKey });
    await response.body?.cancel();
    return { delivered: true, channel: 'webhook', status: response.status };
  }
}

/**
 * POSTs JSON and returns the answer when it is a 2xx. A network error, timeout, 5xx, 408 or 429
 * is a retryable failure; any other 4xx is not (the receiver refuses this message for good).
 * Errors name the URL's host only: webhook URLs carry secrets.
 */
export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  const where = `the notification webhook at ${new URL(url).host}`;
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
    });
  } catch (error) {
    const reason =
      (error as Error).name === 'TimeoutError'
        ? `did not answer within ${WEBHOOK_TIMEOUT_MS / 1000} s`
        : `cannot be reached (${networkCause(error)})`;
    throw ApplicationFailure.retryable(`${where} ${reason}`, NotifyFailureType.failed);
  }
  if (response.ok) return response;
  const answer = (await response.text().catch(() => '')).slice(0, RESPONSE_EXCERPT_CHARS);
  const message = `${where} answered HTTP ${response.status}${answer ? `: ${answer}` : ''}`;
  const refusesForGood = response.status >= 400 && response.status < 500 && ![408, 429].includes(response.status);
  throw refusesForGood
    ? ApplicationFailure.nonRetryable(message, NotifyFailureType.rejected)
    : ApplicationFailure.retryable(message, NotifyFailureType.failed);
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
