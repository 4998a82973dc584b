import type { SentMailRepository } from '@runbooks/store';
import { createHash } from 'node:crypto';
import { currentActivity } from '../activity-context';
import type { MailMessage, MailSent, Mailer } from './smtp';

/**
 * A mailer that sends each activity's mail once: a retry of the same activity (on any worker)
 * finds the first send in the store and answers with its Message-ID instead of sending again.
 *
 * The key is the activity's run id, activity id and the message's index within the attempt
 * (an activity that sends two mails sends each once). A worker that dies after the relay took
 * the mail and before the record is written sends it again on the retry, with the same
 * Message-ID (derived from the key), which mail stores use to drop the duplicate.
 * Outside an activity (scripts, unit tests) it just sends.
 */
export class SendOnceMailer implements Mailer {
  private readonly sentInAttempt = new WeakMap<object, number>();

  constructor(
    private readonly inner: Mailer,
    private readonly sent: Pick<SentMailRepository, 'find' | 'record'>,
    private readonly domain = 'runbooks.invalid',
  ) {}

  async sendMail(message: MailMessage): Promise<MailSent> {
    const activity = currentActivity();
    const { workflowExecution, activityId } = activity?.info ?? {};
    if (!activity || !workflowExecution) return this.inner.sendMail(message);
    const index = this.sentInAttempt.get(activity) ?? 0;
    this.sentInAttempt.set(activity, index + 1);
    const key = `${workflowExecution.runId}/${activityId}/${index}`;
    const earlier = await this.sent.find(key);
    if (earlier) return { messageId: earlier };
    const messageId = `<${createHash('sha256').update(key).digest('hex').slice(0, 32)}@${this.domain}>`;
    const sent = await this.inner.sendMail({ ...message, messageId });
    await this.sent.record(key, sent.messageId);
    return sent;
  }
}
