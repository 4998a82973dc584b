import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

/** A message the receiver accepted, as it came over the wire. */
export interface ReceivedMail {
  from: string;
  to: string[];
  /** The raw message (headers and body) as the client sent it. */
  raw: string;
  subject: string;
  /** The body after the header block. */
  text: string;
}

export interface SmtpReceiver {
  host: string;
  port: number;
  messages: ReceivedMail[];
  /** Resolves once `count` messages have arrived (or at once when they already have). */
  waitFor(count: number): Promise<ReceivedMail[]>;
  stop(): Promise<void>;
}

export interface SmtpReceiverOptions {
  /** Demand this login (plain auth over the loopback connection). */
  login?: { user: string; password: string };
  /** Refuse RCPT TO for these addresses with a 550. */
  refuse?: string[];
  /** Called with each message as it arrives (the demo writes it to a file). */
  onMessage?: (message: ReceivedMail) => void;
}

/**
 * A real SMTP server (the smtp-server package) on 127.0.0.1 (tests, and the `npm start` demo's mail catcher), a free port, keeping what it
 * receives in memory for the tests' assertions. No TLS: loopback only.
 */
export async function startSmtpReceiver(options: SmtpReceiverOptions = {}): Promise<SmtpReceiver> {
  const messages: ReceivedMail[] = [];
  const waiters: Array<{ count: number; resolve: (m: ReceivedMail[]) => void }> = [];
  const server = new SMTPServer({
    secure: false,
    disabledCommands: options.login ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    authOptional: !options.login,
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, _session, callback) {
      const ok = options.login && auth.username === options.login.user && auth.password === options.login.password;
      if (ok) callback(null, { user: auth.username });
      else callback(new Error('invalid login'));
    },
    onRcptTo(address, _session, callback) {
      if (options.refuse?.includes(address.address)) {
        const refused = Object.assign(new Error(`no mailbox ${address.address}`), { responseCode: 550 });
        callback(refused);
      } else callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const split = raw.indexOf('\r\n\r\n');
        const headers = split >= 0 ? raw.slice(0, split) : raw;
        const subject = /^Subject: (.*)$/im.exec(headers)?.[1] ?? '';
        const message: ReceivedMail = {
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw,
          subject,
          text: split >= 0 ? raw.slice(split + 4) : '',
        };
        messages.push(message);
        options.onMessage?.(message);
        for (const w of waiters.splice(0)) {
          if (messages.length >= w.count) w.resolve(messages.slice());
          else waiters.push(w);
        }
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.server.address() as AddressInfo;
  return {
    host: '127.0.0.1',
    port,
    messages,
    waitFor: (count) =>
      new Promise((resolve) => {
        if (messages.length >= count) resolve(messages.slice());
        else waiters.push({ count, resolve });
      }),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
