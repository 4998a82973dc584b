import { MockActivityEnvironment } from '@temporalio/testing';
import type { Store } from '@runbooks/store';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startSmtpReceiver, type SmtpReceiver } from '../test-support/smtp-receiver';
import { storeIn } from '../test-support/store';
import { SendOnceMailer } from './once';
import { SmtpMailer } from './smtp';

/** The same activity (run id and activity id) in a given attempt, as a retry on any worker sees it. */
function attempt(n: number): MockActivityEnvironment {
  return new MockActivityEnvironment({
    activityId: '7',
    attempt: n,
    workflowExecution: { workflowId: 'incident-response-1', runId: 'run-a' },
  });
}

describe('SendOnceMailer: mail sent once per activity, however often it is retried', () => {
  let dir: string;
  let stores: Store[];
  let receiver: SmtpReceiver;
  beforeEach(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'mail-once-'));
    // Two workers' stores on one database: what one sent, the other finds.
    stores = [storeIn(dir), storeIn(dir)];
    receiver = await startSmtpReceiver();
  });
  afterEach(async () => {
    await receiver.stop();
    for (const store of stores) await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const mailerOn = (store: Store) =>
    new SendOnceMailer(new SmtpMailer({ host: receiver.host, port: receiver.port, from: 'runbooks@example.test' }), store.sentMail);
  const notice = { to: 'ops@example.test', subject: 'ERP down', text: 'P2 declared' };

  it('a retry on another worker does not send again and answers with the first Message-ID', async () => {
    const first = await attempt(1).run(() => mailerOn(stores[0]).sendMail(notice));
    const retried = await attempt(2).run(() => mailerOn(stores[1]).sendMail(notice));

    expect(retried.messageId).toBe(first.messageId);
    const messages = await receiver.waitFor(1);
    expect(receiver.messages).toHaveLength(1);
    expect(messages[0].raw).toContain(`Message-ID: ${first.messageId}`);
  });

  it('two mails of one activity are each sent once; another activity of the run sends its own', async () => {
    const once = await attempt(1).run(async () => {
      const mailer = mailerOn(stores[0]);
      return [await mailer.sendMail(notice), await mailer.sendMail({ ...notice, subject: 'second' })];
    });
    const again = await attempt(2).run(async () => {
      const mailer = mailerOn(stores[1]);
      return [await mailer.sendMail(notice), await mailer.sendMail({ ...notice, subject: 'second' })];
    });
    expect(again.map((s) => s.messageId)).toEqual(once.map((s) => s.messageId));
    expect(new Set(once.map((s) => s.messageId)).size).toBe(2);

    const other = new MockActivityEnvironment({
      activityId: '8',
      workflowExecution: { workflowId: 'incident-response-1', runId: 'run-a' },
    });
    await other.run(() => mailerOn(stores[0]).sendMail({ ...notice, subject: 'resolved' }));
    await receiver.waitFor(3);
    expect(receiver.messages.map((m) => m.subject)).toEqual(['ERP down', 'second', 'resolved']);
  });

  it('a send the relay refused is not recorded, so the retry sends it', async () => {
    await receiver.stop();
    const down = await attempt(1)
      .run(() => mailerOn(stores[0]).sendMail(notice))
      .catch((e: unknown) => e);
    expect(down).toBeInstanceOf(Error);
    receiver = await startSmtpReceiver();

    await attempt(2).run(() => mailerOn(stores[1]).sendMail(notice));
    expect((await receiver.waitFor(1)).map((m) => m.subject)).toEqual(['ERP down']);
  });
});
