import { ApplicationFailure } from '@temporalio/common';
import nodemailer, { type Transporter } from 'nodemailer';
import type { SecretResolver } from '../secrets/resolve-secret';

/**
 * The SMTP mail driver: a real SMTP client (nodemailer) for mail runbooks send to people.
 *
 * Interface (kept small on purpose; other runbooks import it as is):
 *   const mail = SmtpMailer.fromEnv(secrets);                  // or new SmtpMailer(config, secrets)
 *   const { messageId } = await mail.sendMail({ to, subject, text });
 *
 * Configuration (`smtpConfigFromEnv`):
 *   RUNBOOKS_SMTP_HOST      the relay's host name (required to send)
 *   RUNBOOKS_SMTP_PORT      its port (default 25; 465 means implicit TLS)
 *   RUNBOOKS_SMTP_FROM      the sender address (default runbooks@localhost)
 *   RUNBOOKS_SMTP_USER      optional login name
 *   RUNBOOKS_SMTP_PASSWORD  optional `secret:<name>` reference of the login's password: a
 *                           reference only, resolved on the worker at send time, never a value
 *   RUNBOOKS_SMTP_STARTTLS  `require` to refuse a relay that does not offer STARTTLS
 *
 * Failures are ApplicationFailures of type SmtpFailureType: a refused recipient or message (5xx)
 * is not retryable, a connection error or a 4xx is.
 */
export interface MailMessage {
  /** One address or several. */
  to: string | string[];
  subject: string;
  text: string;
  /** The Message-ID header to send with (`<id@domain>`); the relay's client makes one up when absent. */
  messageId?: string;
}

export interface MailSent {
  /** The Message-ID header the message was sent with. */
  messageId: string;
}

export interface Mailer {
  sendMail(message: MailMessage): Promise<MailSent>;
}

export interface SmtpConfig {
  host: string;
  port: number;
  from: string;
  /** Login for relays that need one; the password by secret reference only. */
  auth?: { user: string; passwordRef: string };
  /** Refuse to send unless the relay upgrades the connection with STARTTLS. */
  requireTls?: boolean;
}

export const SmtpFailureType = {
  /** Not configured, or the relay refuses the message for good (5xx): retrying will not help. */
  rejected: 'MailRejected',
  /** Connection lost, timed out or a temporary 4xx: worth retrying. */
  failed: 'MailFailed',
} as const;

const SMTP_TIMEOUT_MS = 15_000;

/** The SMTP configuration from the environment, or undefined when no relay (RUNBOOKS_SMTP_HOST) is configured. */
export function smtpConfigFromEnv(env: NodeJS.ProcessEnv = process.env): SmtpConfig | undefined {
  const host = env.RUNBOOKS_SMTP_HOST;
  if (!host) return undefined;
  const port = Number(env.RUNBOOKS_SMTP_PORT || 25);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new Error(`RUNBOOKS_SMTP_PORT must be a port number, not ${env.RUNBOOKS_SMTP_PORT}`);
  const user = env.RUNBOOKS_SMTP_USER;
  const passwordRef = env.RUNBOOKS_SMTP_PASSWORD;
  if (user && !passwordRef) throw new Error('RUNBOOKS_SMTP_USER is set without RUNBOOKS_SMTP_PASSWORD (a secret:<name> reference)');
  if (passwordRef && !passwordRef.startsWith('secret:')) {
    // Never echo the value: it may be a pasted password.
    throw new Error('RUNBOOKS_SMTP_PASSWORD must be a secret:<name> reference, not a password');
  }
  return {
    host,
    port,
    from: env.RUNBOOKS_SMTP_FROM || 'runbooks@localhost',
    auth: user && passwordRef ? { user, passwordRef } : undefined,
    requireTls: env.RUNBOOKS_SMTP_STARTTLS === 'require',
  };
}

export class SmtpMailer implements Mailer {
  constructor(
    readonly config: SmtpConfig,
    private readonly secrets?: SecretResolver,
  ) {}

  /** A mailer from RUNBOOKS_SMTP_*; throws a non-retryable failure at send time when none is configured. */
  static fromEnv(secrets?: SecretResolver, env: NodeJS.ProcessEnv = process.env): Mailer {
    const config = smtpConfigFromEnv(env);
    if (config) return new SmtpMailer(config, secrets);
    return {
      sendMail: () =>
        Promise.reject(
          ApplicationFailure.nonRetryable('no mail relay is configured on the worker (RUNBOOKS_SMTP_HOST)', SmtpFailureType.rejected),
        ),
    };
  }

  async sendMail(message: MailMessage): Promise<MailSent> {
    const transport = await this.transport();
    try {
      const { to, subject, text, messageId } = message;
      const info = await transport.sendMail({ from: this.config.from, to, subject, text, ...(messageId ? { messageId } : {}) });
      return { messageId: info.messageId };
    } catch (error) {
      throw smtpFailure(error, this.config);
    } finally {
      transport.close();
    }
  }

  /** One connection per message: runbooks send a few mails, and a pooled socket would outlive the activity. */
  private async transport(): Promise<Transporter> {
    const { host, port, auth, requireTls } = this.config;
    let password: string | undefined;
    if (auth) {
      if (!this.secrets)
        throw ApplicationFailure.nonRetryable('the SMTP login needs a secret resolver on the worker', SmtpFailureType.rejected);
      password = await this.secrets.resolve(auth.passwordRef);
    }
    return nodemailer.createTransport({
      host,
      port,
      secure: port === 465,
      requireTLS: requireTls,
      auth: auth ? { user: auth.user, pass: password } : undefined,
      connectionTimeout: SMTP_TIMEOUT_MS,
      greetingTimeout: SMTP_TIMEOUT_MS,
      socketTimeout: SMTP_TIMEOUT_MS,
    });
  }
}

/** nodemailer's error as a Temporal failure: 5xx answers are final, the rest worth retrying. The message names the relay, never the login. */
function smtpFailure(error: unknown, config: SmtpConfig): ApplicationFailure {
  const e = error as { responseCode?: number; code?: string; message?: string };
  const where = `the mail relay ${config.host}:${config.port}`;
  const reason = e.responseCode ? `answered ${e.responseCode}` : `failed (${e.code ?? 'error'})`;
  const message = `${where} ${reason}: ${(e.message ?? String(error)).slice(0, 200)}`;
  const final = (e.responseCode !== undefined && e.responseCode >= 500) || e.code === 'EAUTH' || e.code === 'EENVELOPE';
  return final
    ? ApplicationFailure.nonRetryable(message, SmtpFailureType.rejected)
    : ApplicationFailure.retryable(message, SmtpFailureType.failed);
}
