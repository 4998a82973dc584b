import { principalSchema, type Principal } from '@runbooks/contracts';
import fs from 'node:fs';
import { z } from 'zod';

/** The Slack app's interactions: who may click (Slack user → principal) and how requests are verified. */
export interface SlackConfig {
  /** The app's signing secret: every interaction request is an HMAC of its body with it. */
  signingSecret: string;
  /** Slack user id (U…) → the principal that user acts as; roles are checked by the run as for the API. */
  users: ReadonlyMap<string, Principal>;
  /** response_url must start with one of these (Slack's own hooks), so a leaked secret cannot aim the API elsewhere. */
  responseUrlPrefixes: readonly string[];
}

export const SLACK_CONFIG = Symbol('SLACK_CONFIG');

const usersFileSchema = z.record(
  z.string().regex(/^[UW][A-Z0-9]{2,}$/, 'must be a Slack user id such as U024BE7LH'),
  principalSchema.strict(),
);

const DEFAULT_RESPONSE_URL_PREFIX = 'https://hooks.slack.com/';

/**
 * Slack is off unless a signing secret is set (RUNBOOKS_SLACK_SIGNING_SECRET, or the file named by
 * RUNBOOKS_SLACK_SIGNING_SECRET_FILE); then the users file must be valid, or the API does not start.
 */
export function loadSlackConfig(env: NodeJS.ProcessEnv = process.env): SlackConfig | undefined {
  const secretFile = env.RUNBOOKS_SLACK_SIGNING_SECRET_FILE;
  const signingSecret =
    env.RUNBOOKS_SLACK_SIGNING_SECRET || (secretFile ? readText(secretFile, 'RUNBOOKS_SLACK_SIGNING_SECRET_FILE').trim() : '');
  if (!signingSecret) return undefined;
  const usersFile = env.RUNBOOKS_SLACK_USERS_FILE;
  let users = new Map<string, Principal>();
  if (usersFile) {
    let raw: unknown;
    try {
      raw = JSON.parse(readText(usersFile, 'RUNBOOKS_SLACK_USERS_FILE'));
    } catch (error) {
      throw new Error(`RUNBOOKS_SLACK_USERS_FILE ${usersFile} is not JSON: ${(error as Error).message}`);
    }
    const parsed = usersFileSchema.safeParse(raw);
    if (!parsed.success) throw new Error(`RUNBOOKS_SLACK_USERS_FILE ${usersFile} is invalid:\n${z.prettifyError(parsed.error)}`);
    users = new Map(Object.entries(parsed.data));
  }
  const prefixes = (env.RUNBOOKS_SLACK_RESPONSE_URL_PREFIX || DEFAULT_RESPONSE_URL_PREFIX)
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  return { signingSecret, users, responseUrlPrefixes: prefixes };
}

function readText(file: string, variable: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(`${variable}: cannot read ${file}: ${(error as Error).message}`);
  }
}
