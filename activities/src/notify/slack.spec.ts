import { ApplicationFailure } from '@temporalio/common';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NotifyInput } from '../types';
import { createNotifier } from './create-notifier';
import { approvalActionId, approvalGateOf, isLinkAction, parseApprovalActionId, slackMessage } from './slack-blocks';
import { SlackBotNotifier } from './slack-bot';
import { LogNotifier, NotifyFailureType, WebhookNotifier } from './webhook';

const approvalNotice: NotifyInput = {
  runId: 'data-restore-sched-nightly-2026-11-23T02:00:00Z',
  recipients: ['#it-oncall'],
  kind: 'approval-requested',
  subject: 'Approval needed: Restore /srv/projects',
  text: 'Tess Technician asks to restore /srv/projects from 2026-11-01.',
  fields: { gate: 'approve-restore' },
  gateId: 'approve-restore',
  idempotencyKey: 'k1',
};

/** A real HTTP server standing in for Slack's Web API: answers each call with `answer`. */
async function fakeSlackApi(answer: Record<string, unknown>) {
  const calls: { url: string; authorization?: string; body: Record<string, unknown> }[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      calls.push({ url: req.url ?? '', authorization: req.headers.authorization, body: JSON.parse(Buffer.concat(chunks).toString()) });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    apiUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`,
    calls,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('Slack approval blocks', () => {
  it('carry run and gate in the button action ids, and come apart again (colons in run ids included)', () => {
    const { blocks } = slackMessage(approvalNotice, 'https://runbooks.example.test/');
    const actions = blocks.find((b) => b.type === 'actions') as { elements: { action_id: string; url?: string; value?: string }[] };
    expect(actions.elements.map((e) => e.action_id)).toEqual([
      approvalActionId('approve', approvalNotice.runId, 'approve-restore'),
      approvalActionId('reject', approvalNotice.runId, 'approve-restore'),
      approvalActionId('open', approvalNotice.runId, 'approve-restore'),
    ]);
    expect(isLinkAction(actions.elements[2].action_id)).toBe(true);
    expect(parseApprovalActionId(actions.elements[1].action_id)).toEqual({
      decision: 'reject',
      runId: approvalNotice.runId,
      gateId: 'approve-restore',
    });
    expect(actions.elements[2].url).toBe(
      'https://runbooks.example.test/console/approvals/data-restore-sched-nightly-2026-11-23T02%3A00%3A00Z/approve-restore',
    );
  });

  it('has no buttons on a notice that asks for no decision, and no link without a console URL', () => {
    expect(slackMessage({ ...approvalNotice, gateId: undefined, fields: {} }).blocks.some((b) => b.type === 'actions')).toBe(false);
    const actions = slackMessage(approvalNotice).blocks.find((b) => b.type === 'actions') as { elements: unknown[] };
    expect(actions.elements).toHaveLength(2);
  });

  it("takes the gate of the engine's escalation notices from their gate field; a task notice links to its run", () => {
    const escalation = {
      ...approvalNotice,
      kind: 'escalation' as const,
      gateId: undefined,
      fields: { gate: 'approve-production', tier: '2' },
    };
    expect(approvalGateOf(escalation)).toBe('approve-production');
    expect(approvalGateOf({ ...escalation, kind: 'run-completed' })).toBeUndefined();
    const task = { ...escalation, fields: { task: 'replace-disk', tier: '2' } };
    expect(approvalGateOf(task)).toBeUndefined();
    const actions = slackMessage(task, 'https://runbooks.example.test').blocks.find((b) => b.type === 'actions') as {
      elements: { action_id: string; url: string }[];
    };
    expect(actions.elements).toEqual([
      expect.objectContaining({ url: `https://runbooks.example.test/console/runs/${encodeURIComponent(task.runId)}` }),
    ]);
    expect(isLinkAction(actions.elements[0].action_id)).toBe(true);
  });

  it.each([
    'runbooks/open/run/gate',
    'other/approve/run/gate',
    'runbooks/approve/run',
    'runbooks/launch/run/gate',
    'runbooks/approve//gate',
  ])('does not take %s for a runbooks action', (id) => {
    expect(parseApprovalActionId(id)).toBeUndefined();
  });
});

describe('SlackBotNotifier', () => {
  it('posts the Block Kit message to chat.postMessage with the bot token and channel', async () => {
    const slack = await fakeSlackApi({ ok: true, ts: '1700000000.0001' });
    try {
      const result = await new SlackBotNotifier({ token: 'xoxb-test', channel: 'C0OPS', apiUrl: slack.apiUrl }).send(approvalNotice);
      expect(result).toEqual({ delivered: true, channel: 'slack:C0OPS', status: 200 });
      expect(slack.calls).toEqual([
        {
          url: '/api/chat.postMessage',
          authorization: 'Bearer xoxb-test',
          body: expect.objectContaining({
            channel: 'C0OPS',
            text: `${approvalNotice.subject}\n${approvalNotice.text}`,
            blocks: expect.any(Array),
          }),
        },
      ]);
    } finally {
      await slack.close();
    }
  });

  it.each([
    ['channel_not_found', NotifyFailureType.rejected, true],
    ['ratelimited', NotifyFailureType.failed, false],
  ])('turns ok:false %s into a failure (non-retryable: %s)', async (error, type, nonRetryable) => {
    const slack = await fakeSlackApi({ ok: false, error });
    try {
      const failure = await new SlackBotNotifier({ token: 'xoxb-test', channel: 'C0OPS', apiUrl: slack.apiUrl })
        .send(approvalNotice)
        .catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(ApplicationFailure);
      expect(failure).toMatchObject({ type, nonRetryable, message: expect.stringContaining(error) });
      expect((failure as Error).message).not.toContain('xoxb-test');
    } finally {
      await slack.close();
    }
  });
});

describe('createNotifier', () => {
  it('prefers the Slack bot, then the webhook, then the log file', () => {
    expect(
      createNotifier({ slackBot: { token: 't', channel: 'C' }, webhookUrl: 'http://127.0.0.1:9/h', logFile: '/tmp/n.jsonl' }),
    ).toBeInstanceOf(SlackBotNotifier);
    expect(createNotifier({ webhookUrl: 'http://127.0.0.1:9/h', logFile: '/tmp/n.jsonl' })).toBeInstanceOf(WebhookNotifier);
    expect(createNotifier({ logFile: '/tmp/n.jsonl' })).toBeInstanceOf(LogNotifier);
  });
});
