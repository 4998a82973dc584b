import { ApplicationFailure } from '@temporalio/common';
import type { NotifyInput, NotifyResult } from '../types';
import { slackMessage } from './slack-blocks';
import { NotifyFailureType, postJson, type Notifier } from './webhook';

export interface SlackBotConfig {
  /** The bot token (xoxb-...); the worker reads it from its environment, it never enters history. */
  token: string;
  /** The channel id (or name) approval notices go to. */
  channel: string;
  /** Slack's Web API base; a local stand-in in tests. */
  apiUrl: string;
  /** The web console's base URL, for the links in notices. */
  consoleUrl?: string;
}

/** Slack answers 200 with `ok: false`; these errors will not go away by retrying. */
const PERMANENT_ERRORS = new Set([
  'invalid_auth',
  'not_authed',
  'account_inactive',
  'token_revoked',
  'channel_not_found',
  'not_in_channel',
  'is_archived',
  'invalid_blocks',
  'msg_too_long',
  'no_text',
]);

/** Posts notifications with a Slack app's bot token (chat.postMessage), so its buttons come back to the API. */
export class SlackBotNotifier implements Notifier {
  constructor(private readonly config: SlackBotConfig) {}

  async send(notification: NotifyInput): Promise<NotifyResult> {
    const { channel, token, apiUrl, consoleUrl } = this.config;
    const response = await postJson(
      `${apiUrl.replace(/\/+$/, '')}/chat.postMessage`,
      { channel, ...slackMessage(notification, consoleUrl), unfurl_links: false },
      { authorization: `Bearer ${token}` },
    );
    const answer = (await response.json().catch(() => ({}))) as { ok?: boolean; error?: string; ts?: string };
    if (answer.ok !== true) {
      const error = answer.error ?? 'no ok in the answer';
      const message = `Slack refused the notice for run ${notification.runId}: ${error}`;
      throw PERMANENT_ERRORS.has(error)
        ? ApplicationFailure.nonRetryable(message, NotifyFailureType.rejected)
        : ApplicationFailure.retryable(message, NotifyFailureType.failed);
    }
    return { delivered: true, channel: `slack:${channel}`, status: response.status };
  }
}
