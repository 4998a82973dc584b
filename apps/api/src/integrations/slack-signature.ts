import { createHmac, timingSafeEqual } from 'node:crypto';

/** Slack's replay window: a request signed more than 5 minutes from now is refused. */
export const SLACK_MAX_AGE_SECONDS = 5 * 60;

export class SlackSignatureError extends Error {}

/** `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{raw body}` with the signing secret, as Slack signs. */
export function slackSignature(signingSecret: string, timestamp: string, rawBody: Buffer | string): string {
  const body = typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8');
  return `v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:${body}`, 'utf8').digest('hex')}`;
}

/**
 * Verifies an interaction request as Slack documents: the timestamp within the replay window,
 * the signature compared in constant time over the body exactly as received.
 */
export function verifySlackSignature(input: {
  signingSecret: string;
  timestamp: string | undefined;
  signature: string | undefined;
  rawBody: Buffer | undefined;
  nowSeconds?: number;
}): void {
  const { signingSecret, timestamp, signature, rawBody } = input;
  if (!timestamp || !signature) throw new SlackSignatureError('missing X-Slack-Request-Timestamp or X-Slack-Signature');
  if (!rawBody) throw new SlackSignatureError('no request body to verify');
  if (!/^\d{1,12}$/.test(timestamp)) throw new SlackSignatureError('X-Slack-Request-Timestamp is not a Unix time');
  const now = input.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - Number(timestamp)) > SLACK_MAX_AGE_SECONDS) {
    throw new SlackSignatureError('the request is older than 5 minutes (or from the future): refused as a possible replay');
  }
  const expected = Buffer.from(slackSignature(signingSecret, timestamp, rawBody), 'utf8');
  const given = Buffer.from(signature, 'utf8');
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    throw new SlackSignatureError('the Slack signature does not match the request');
  }
}
