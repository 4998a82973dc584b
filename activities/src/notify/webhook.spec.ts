import { ApplicationFailure } from '@temporalio/common';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { NotifyInput } from '../types';
import { createNotifyActivities } from './activities';
import { LogNotifier, NotifyFailureType, WebhookNotifier } from './webhook';

interface Received {
  method: string;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
}

/** A real HTTP receiver on loopback that answers every request with `status`. */
async function startReceiver(status: number): Promise<{ url: string; received: Received[]; close: () => Promise<void> }> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ method: req.method ?? '', headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString()) });
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'invalid_payload');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/T000/secret-token`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const notification: NotifyInput = {
  runId: 'data-restore-42',
  recipients: ['alice@example.org', 'bob@example.org'],
  kind: 'run-completed',
  subject: 'Your files are back',
  text: '/srv/projects was restored from the backup of 2026-01-01.',
  fields: { snapshot: '1a2b3c4d', files: '3' },
  idempotencyKey: 'data-restore-42/notify-users',
};

describe('WebhookNotifier', () => {
  it('POSTs the Slack-compatible JSON with text, structured fields and the Idempotency-Key header', async () => {
    const receiver = await startReceiver(200);
    try {
      const result = await createNotifyActivities(new WebhookNotifier(receiver.url)).notify(notification);

      expect(result).toEqual({ delivered: true, channel: 'webhook', status: 200 });
      expect(receiver.received).toHaveLength(1);
      const [request] = receiver.received;
      expect(request.method).toBe('POST');
      expect(request.headers['content-type']).toBe('application/json');
      expect(request.headers['idempotency-key']).toBe(notification.idempotencyKey);
      expect(request.body).toMatchObject({
        text: `${notification.subject}\n${notification.text}`,
        runId: notification.runId,
        kind: notification.kind,
        recipients: notification.recipients,
        subject: notification.subject,
        fields: notification.fields,
        idempotencyKey: notification.idempotencyKey,
      });
      expect(request.body.blocks).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            type: 'section',
            fields: [
              { type: 'mrkdwn', text: '*snapshot*\n1a2b3c4d' },
              { type: 'mrkdwn', text: '*files*\n3' },
            ],
          }),
        ]),
      );
    } finally {
      await receiver.close();
    }
  });

  it.each([
    [500, false, NotifyFailureType.failed],
    [429, false, NotifyFailureType.failed],
    [400, true, NotifyFailureType.rejected],
  ])('turns HTTP %i into an error naming the status (non-retryable: %s)', async (status, nonRetryable, type) => {
    const receiver = await startReceiver(status);
    try {
      const failure = await new WebhookNotifier(receiver.url).send(notification).catch((e: unknown) => e);

      expect(failure).toBeInstanceOf(ApplicationFailure);
      expect(failure).toMatchObject({ type, nonRetryable });
      const message = (failure as ApplicationFailure).message;
      expect(message).toContain(`HTTP ${status}`);
      expect(message).not.toContain('secret-token');
    } finally {
      await receiver.close();
    }
  });

  it('reports a receiver that cannot be reached as retryable, without the URL path', async () => {
    const receiver = await startReceiver(200);
    await receiver.close();

    const failure = await new WebhookNotifier(receiver.url).send(notification).catch((e: unknown) => e);

    expect(failure).toMatchObject({ type: NotifyFailureType.failed, nonRetryable: false });
    expect((failure as ApplicationFailure).message).toMatch(/cannot be reached \(ECONNREFUSED\)/);
    expect((failure as ApplicationFailure).message).not.toContain('secret-token');
  });
});

describe('LogNotifier', () => {
  it('appends one JSON line per notification to its file', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'log-notifier-'));
    try {
      const file = path.join(dir, 'logs', 'notifications.jsonl');
      const notifier = new LogNotifier(file);

      const result = await notifier.send(notification);
      await notifier.send({ ...notification, kind: 'escalation', idempotencyKey: 'second' });

      expect(result).toEqual({ delivered: true, channel: `log:${file}` });
      const lines = readFileSync(file, 'utf8')
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line));
      expect(lines).toEqual([
        { at: expect.any(String), ...notification },
        { at: expect.any(String), ...notification, kind: 'escalation', idempotencyKey: 'second' },
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
