import { createNotifyActivities, WebhookNotifier } from '@runbooks/activities';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { slackSignature } from '../../../apps/api/src/integrations/slack-signature';
import { WebhookReceiver } from '../harness/webhook-receiver';
import { eventually } from '../harness/worker';
import { auth } from './app';
import { startRestoreEnvironment, type RestoreEnvironment } from './restore-environment';

/**
 * Slack approvals end to end on the real dev server: the worker posts Block Kit notices with
 * Approve / Reject buttons to a local receiver standing in for Slack, and signed clicks come
 * back to POST /v1/integrations/slack/interactions; a second receiver stands in for response_url.
 */
const SIGNING_SECRET = 'slack-test-signing-secret-8f7422';
const CONSOLE_URL = 'https://runbooks.example.test';
const USERS = {
  U0ALEX: { id: 'alex', displayName: 'Alex Approver', roles: ['approver'] },
  U0BLAIR: { id: 'blair', displayName: 'Blair Approver', roles: ['approver', 'technician'] },
  U0TESS: { id: 'tess', displayName: 'Tess Technician', roles: ['technician'] },
};

const slack = new WebhookReceiver();
const responses = new WebhookReceiver();
let responseUrl: string;
let env: RestoreEnvironment;
let tmp: string;

beforeAll(async () => {
  const [noticeUrl, responseHook] = await Promise.all([slack.start(), responses.start()]);
  responseUrl = `${responseHook}/actions/T0TEST/1234`;
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'slack-test-'));
  const usersFile = path.join(tmp, 'slack-users.json');
  fs.writeFileSync(usersFile, JSON.stringify(USERS));
  // The API reads its Slack settings from the environment (jest gives each file its own copy).
  Object.assign(process.env, {
    RUNBOOKS_SLACK_SIGNING_SECRET: SIGNING_SECRET,
    RUNBOOKS_SLACK_USERS_FILE: usersFile,
    RUNBOOKS_SLACK_RESPONSE_URL_PREFIX: `${new URL(responseHook).origin}/`,
  });
  env = await startRestoreEnvironment({
    worker: { overrideActivities: () => createNotifyActivities(new WebhookNotifier(noticeUrl, { consoleUrl: CONSOLE_URL })) },
  });
});
afterAll(async () => {
  await env?.stop();
  await Promise.all([slack.stop(), responses.stop()]);
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  for (const name of Object.keys(process.env)) if (name.startsWith('RUNBOOKS_SLACK_')) delete process.env[name];
});

interface Click {
  user: keyof typeof USERS | 'U0NOBODY';
  actionId: string;
  blocks?: unknown[];
  responseUrl?: string;
}

function formBody({ user, actionId, blocks = [], responseUrl: url = responseUrl }: Click): string {
  const payload = {
    type: 'block_actions',
    team: { id: 'T0TEST', domain: 'example' },
    user: { id: user, username: user.toLowerCase(), team_id: 'T0TEST' },
    api_app_id: 'A0RUNBOOKS',
    container: { type: 'message', message_ts: '1700000000.000100', channel_id: 'C0OPS' },
    trigger_id: '123.456.abc',
    message: { type: 'message', ts: '1700000000.000100', text: 'notice', blocks },
    response_url: url,
    actions: [{ type: 'button', action_id: actionId, block_id: 'runbooks-approval', value: '{}', action_ts: '1700000001.000200' }],
  };
  return `payload=${encodeURIComponent(JSON.stringify(payload))}`;
}

interface Signing {
  secret?: string;
  timestamp?: number;
  /** Sign this body but send another. */
  sendInstead?: string;
}

function post(body: string, { secret = SIGNING_SECRET, timestamp = Math.floor(Date.now() / 1000), sendInstead }: Signing = {}) {
  return request(env.api.server)
    .post('/v1/integrations/slack/interactions')
    .set('content-type', 'application/x-www-form-urlencoded')
    .set('x-slack-request-timestamp', String(timestamp))
    .set('x-slack-signature', slackSignature(secret, String(timestamp), body))
    .send(sendInstead ?? body);
}

const action = (decision: 'approve' | 'reject', runId: string, gateId = 'approve-restore') => `runbooks/${decision}/${runId}/${gateId}`;

async function gate(runId: string) {
  const res = await request(env.api.server).get(`/v1/runs/${runId}`).set(auth('tess')).expect(200);
  return res.body.gates[0] as { id: string; state: string; decisions: { by: string; decision: string; comment: string }[] };
}

describe('Slack approval notices', () => {
  it('an approval arrives as Block Kit with Approve / Reject and a console link when the gate opens; the approver clicks and the buttons become the outcome', async () => {
    const runId = await env.launchToApproval('tess');

    const notice = await eventually(
      async () => slack.received.find((r) => r.body.runId === runId && r.body.kind === 'approval-requested'),
      10_000,
      'the approval notice',
    );
    const blocks = notice.body.blocks as { type: string; elements?: { action_id: string; url?: string; style?: string }[] }[];
    const actions = blocks.find((b) => b.type === 'actions');
    expect(actions?.elements).toEqual([
      expect.objectContaining({ action_id: action('approve', runId), style: 'primary' }),
      expect.objectContaining({ action_id: action('reject', runId), style: 'danger' }),
      expect.objectContaining({ url: `${CONSOLE_URL}/console/approvals/${runId}/approve-restore` }),
    ]);
    expect(notice.body).toMatchObject({
      gateId: 'approve-restore',
      recipients: ['role:approver'],
      text: expect.stringContaining('requested by Tess Technician waits for approval'),
    });

    const clicked = await post(formBody({ user: 'U0ALEX', actionId: actions!.elements![0].action_id, blocks })).expect(200);
    expect(clicked.body).toEqual({ outcome: 'approved', message: 'Approved by Alex Approver (alex) in Slack' });

    const [replacement] = responses.received.filter((r) => r.body.replace_original === true);
    expect(replacement.body.blocks).toEqual([
      ...blocks.filter((b) => b.type !== 'actions'),
      { type: 'section', text: { type: 'mrkdwn', text: ':white_check_mark: *Approved by Alex Approver (alex) in Slack*' } },
    ]);
    expect(await gate(runId)).toMatchObject({
      state: 'approved',
      decisions: [{ by: 'alex', decision: 'approve', comment: 'approved in Slack' }],
    });
  });

  it('refuses a self-approval and a missing role the way the API does, shown to the clicker alone', async () => {
    const runId = await env.launchToApproval('blair');
    const before = responses.received.length;

    const self = await post(formBody({ user: 'U0BLAIR', actionId: action('approve', runId) })).expect(200);
    expect(self.body).toEqual({ outcome: 'refused', message: 'you requested this run; another person must decide its approvals' });
    const technician = await post(formBody({ user: 'U0TESS', actionId: action('approve', runId) })).expect(200);
    expect(technician.body).toEqual({ outcome: 'refused', message: 'approval gate approve-restore needs one of the roles: approver' });
    const stranger = await post(formBody({ user: 'U0NOBODY', actionId: action('approve', runId) })).expect(200);
    expect(stranger.body).toMatchObject({
      outcome: 'refused',
      message: expect.stringMatching(/U0NOBODY is not linked to a runbooks principal/),
    });

    expect(responses.received.slice(before).map((r) => r.body)).toEqual([
      { response_type: 'ephemeral', replace_original: false, text: `Not recorded: ${self.body.message}` },
      { response_type: 'ephemeral', replace_original: false, text: `Not recorded: ${technician.body.message}` },
      { response_type: 'ephemeral', replace_original: false, text: `Not recorded: ${stranger.body.message}` },
    ]);
    expect(await gate(runId)).toMatchObject({ state: 'pending', decisions: [] });
  });

  it('a Reject click rejects the run', async () => {
    const runId = await env.launchToApproval('tess');
    const res = await post(formBody({ user: 'U0ALEX', actionId: action('reject', runId) })).expect(200);
    expect(res.body).toEqual({ outcome: 'rejected', message: 'Rejected by Alex Approver (alex) in Slack' });
    await eventually(
      async () =>
        (await request(env.api.server).get(`/v1/runs/${runId}`).set(auth('tess'))).body.status === 'rejected' ? true : undefined,
      30_000,
      'the run to end rejected',
    );
  });
});

describe('Slack request signatures', () => {
  let runId: string;
  beforeAll(async () => {
    runId = await env.launchToApproval('tess');
  });

  it.each([
    ['signed with another secret', (body: string) => post(body, { secret: 'not-the-signing-secret' }), /signature does not match/],
    [
      'older than five minutes',
      (body: string) => post(body, { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 }),
      /older than 5 minutes/,
    ],
    [
      'tampered after signing',
      (body: string) =>
        post(body, { sendInstead: body.replace(encodeURIComponent('runbooks/approve'), encodeURIComponent('runbooks/reject')) }),
      /signature does not match/,
    ],
    [
      'without the signature headers',
      (body: string) =>
        request(env.api.server)
          .post('/v1/integrations/slack/interactions')
          .set('content-type', 'application/x-www-form-urlencoded')
          .send(body),
      /missing X-Slack-Request-Timestamp or X-Slack-Signature/,
    ],
  ])('refuses a request %s with 401 and decides nothing', async (_what, send, message) => {
    const before = responses.received.length;
    const res = await send(formBody({ user: 'U0ALEX', actionId: action('approve', runId) })).expect(401);
    expect(res.body).toMatchObject({ statusCode: 401, message: expect.stringMatching(message) });
    expect(responses.received.length).toBe(before);
    expect(await gate(runId)).toMatchObject({ state: 'pending', decisions: [] });
  });

  it('accepts the same click correctly signed', async () => {
    const res = await post(formBody({ user: 'U0ALEX', actionId: action('approve', runId) })).expect(200);
    expect(res.body.outcome).toBe('approved');
    expect(await gate(runId)).toMatchObject({ state: 'approved', decisions: [{ by: 'alex' }] });
  });

  it('acknowledges a click on the console link without deciding anything', async () => {
    const other = await env.launchToApproval('tess');
    const res = await post(formBody({ user: 'U0ALEX', actionId: `runbooks/open/${other}/approve-restore` })).expect(200);
    expect(res.body.outcome).toBe('ignored');
    expect(await gate(other)).toMatchObject({ state: 'pending', decisions: [] });
  });

  it('refuses, with 400 naming the field, an action that is not a runbooks approval and a response_url that is not Slack', async () => {
    for (const actionId of ['some-other-app-button', 'runbooks/approve/-not a run-/approve-restore']) {
      const foreign = await post(formBody({ user: 'U0ALEX', actionId })).expect(400);
      expect(foreign.body.issues).toEqual([
        { path: 'payload.actions.0.action_id', message: 'is not an action of a runbooks approval notice' },
      ]);
    }
    const elsewhere = await post(
      formBody({ user: 'U0ALEX', actionId: action('approve', runId), responseUrl: 'http://169.254.169.254/latest' }),
    ).expect(400);
    expect(elsewhere.body.issues).toEqual([
      { path: 'payload.response_url', message: expect.stringMatching(/^must start with http:\/\/127\.0\.0\.1:/) },
    ]);
  });
});
