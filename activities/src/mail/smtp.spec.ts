import { ApplicationFailure } from '@temporalio/common';
import { TestSecrets } from '../test-support/secrets';
import { startSmtpReceiver, type SmtpReceiver } from '../test-support/smtp-receiver';
import { SmtpFailureType, SmtpMailer, smtpConfigFromEnv } from './smtp';

const PASSWORD_VARIABLE = 'RUNBOOKS_SECRET_SMTP_SPEC';
const PASSWORD = 'Relay-login-5f1e-canary';

describe('SmtpMailer on a real SMTP server', () => {
  let receiver: SmtpReceiver | undefined;
  let secrets: TestSecrets | undefined;
  afterEach(async () => {
    await receiver?.stop();
    secrets?.remove();
    delete process.env[PASSWORD_VARIABLE];
    receiver = secrets = undefined;
  });

  it('delivers a message to the receiver, from the configured sender, with its subject and text', async () => {
    receiver = await startSmtpReceiver();
    const mailer = new SmtpMailer({ host: receiver.host, port: receiver.port, from: 'runbooks@example.test' });

    const sent = await mailer.sendMail({ to: 'ada@example.test', subject: 'Welcome aboard', text: 'Your account is ready.' });

    const [message] = await receiver.waitFor(1);
    expect(message.from).toBe('runbooks@example.test');
    expect(message.to).toEqual(['ada@example.test']);
    expect(message.subject).toBe('Welcome aboard');
    expect(message.text).toContain('Your account is ready.');
    expect(message.raw).toContain(`Message-ID: ${sent.messageId}`);
  });

  it('logs in with the password its secret reference names, and the failure of a wrong one is final and names no password', async () => {
    receiver = await startSmtpReceiver({ login: { user: 'runbooks', password: PASSWORD } });
    secrets = new TestSecrets([{ name: 'mail/relay', source: { backend: 'env', variable: PASSWORD_VARIABLE }, runbooks: [], roles: [] }]);
    process.env[PASSWORD_VARIABLE] = PASSWORD;
    const config = {
      host: receiver.host,
      port: receiver.port,
      from: 'runbooks@example.test',
      auth: { user: 'runbooks', passwordRef: 'secret:mail/relay' },
    };

    await new SmtpMailer(config, secrets.resolver()).sendMail({ to: 'ops@example.test', subject: 'with login', text: 'hello' });
    expect((await receiver.waitFor(1))[0].subject).toBe('with login');

    process.env[PASSWORD_VARIABLE] = 'not-the-password';
    const error = await new SmtpMailer(config, secrets.resolver())
      .sendMail({ to: 'ops@example.test', subject: 'x', text: 'y' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApplicationFailure);
    expect(error).toMatchObject({ type: SmtpFailureType.rejected, nonRetryable: true });
    expect((error as Error).message).not.toContain('not-the-password');
    expect(receiver.messages).toHaveLength(1);
  });

  it('a recipient the relay refuses (550) is a final failure; an unreachable relay is a retryable one', async () => {
    receiver = await startSmtpReceiver({ refuse: ['gone@example.test'] });
    const refused = await new SmtpMailer({ host: receiver.host, port: receiver.port, from: 'runbooks@example.test' })
      .sendMail({ to: 'gone@example.test', subject: 'x', text: 'y' })
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({ type: SmtpFailureType.rejected, nonRetryable: true });

    const port = receiver.port;
    await receiver.stop();
    receiver = undefined;
    const unreachable = await new SmtpMailer({ host: '127.0.0.1', port, from: 'runbooks@example.test' })
      .sendMail({ to: 'ada@example.test', subject: 'x', text: 'y' })
      .catch((e: unknown) => e);
    expect(unreachable).toMatchObject({ type: SmtpFailureType.failed, nonRetryable: false });
  });

  it('reads its configuration from RUNBOOKS_SMTP_* and refuses a password given as a value', () => {
    expect(smtpConfigFromEnv({})).toBeUndefined();
    expect(
      smtpConfigFromEnv({ RUNBOOKS_SMTP_HOST: 'mail.example.test', RUNBOOKS_SMTP_PORT: '2525', RUNBOOKS_SMTP_FROM: 'it@example.test' }),
    ).toEqual({
      host: 'mail.example.test',
      port: 2525,
      from: 'it@example.test',
      auth: undefined,
      requireTls: false,
    });
    expect(() => smtpConfigFromEnv({ RUNBOOKS_SMTP_HOST: 'h', RUNBOOKS_SMTP_USER: 'u', RUNBOOKS_SMTP_PASSWORD: PASSWORD })).toThrow(
      /must be a secret:<name> reference/,
    );
    expect(() => smtpConfigFromEnv({ RUNBOOKS_SMTP_HOST: 'h', RUNBOOKS_SMTP_USER: 'u', RUNBOOKS_SMTP_PASSWORD: PASSWORD })).not.toThrow(
      PASSWORD,
    );
    expect(() => smtpConfigFromEnv({ RUNBOOKS_SMTP_HOST: 'h', RUNBOOKS_SMTP_PORT: '99999' })).toThrow(/RUNBOOKS_SMTP_PORT/);
  });

  it('a worker without a relay refuses to send, for good', async () => {
    const error = await SmtpMailer.fromEnv(undefined, {})
      .sendMail({ to: 'a@example.test', subject: 's', text: 't' })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ type: SmtpFailureType.rejected, nonRetryable: true });
  });
});
