import { SlackBotNotifier } from './slack-bot';
import { LogNotifier, WebhookNotifier, type Notifier } from './webhook';

export interface NotifierConfig {
  /** A Slack app's bot: notices go to its channel through chat.postMessage. */
  slackBot?: { token: string; channel: string; apiUrl?: string };
  /** A Slack-compatible incoming webhook. */
  webhookUrl?: string;
  /** The web console's base URL, for deep links in notices. */
  consoleUrl?: string;
  /** Where notices go when neither is configured: one JSON line each. */
  logFile: string;
}

export const SLACK_API_URL = 'https://slack.com/api';

/** The Slack bot when configured, else the webhook, else the log file. */
export function createNotifier(config: NotifierConfig): Notifier {
  const { slackBot, webhookUrl, consoleUrl, logFile } = config;
  if (slackBot) return new SlackBotNotifier({ ...slackBot, apiUrl: slackBot.apiUrl ?? SLACK_API_URL, consoleUrl });
  if (webhookUrl) return new WebhookNotifier(webhookUrl, { consoleUrl });
  return new LogNotifier(logFile);
}
