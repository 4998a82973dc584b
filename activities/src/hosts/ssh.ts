import type { Host } from '@runbooks/contracts';
import type { Store } from '@runbooks/store';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { Client, type ClientChannel } from 'ssh2';
import { SecretResolver } from '../secrets/resolve-secret';
import {
  CommandHostDriver,
  OutputCollector,
  type CommandHostDriverOptions,
  type CommandResult,
  type CommandSession,
  type CommandTransport,
} from './command-driver';
import { HostFailureType, nonRetryable, retryable } from './failures';
import { readIfExists } from './ledger';
import { shellQuote } from './os-commands';

export interface SshHostDriverOptions extends CommandHostDriverOptions {
  /** How long the TCP connection and SSH handshake (with authentication) may take. Default 20 s. */
  connectTimeoutMs?: number;
  /**
   * For hosts without `ssh.hostKeySha256`: remember the key a host shows first (in the store, so
   * every worker holds the same key) and refuse any other later (default); false refuses unpinned hosts.
   */
  trustOnFirstUse?: boolean;
  /** Resolves `ssh.privateKeyRef`; default: the secrets configuration of the environment. */
  secrets?: SecretResolver;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 20_000;
/** The worker stops waiting this long after the remote `timeout` should have ended a command. */
const REMOTE_TIMEOUT_GRACE_MS = 15_000;
/** Exit codes of coreutils `timeout` when it stopped the command (TERM, then KILL). */
const TIMEOUT_EXIT_CODES = new Set([124, 137]);

/**
 * Reaches hosts over SSH with the ssh2 library: key authentication only, the key read from the
 * host's `ssh.privateKeyRef` for the duration of one operation, the host key checked against
 * `ssh.hostKeySha256` (as `ssh-keygen -l` prints it, without `SHA256:`). Each command runs as
 * `timeout <limit> bash -c <script>` so it is stopped on the host itself when it runs too long.
 */
export class SshTransport implements CommandTransport {
  readonly kind = 'ssh';
  /** Where keys were remembered before the store held them; read once per host, then moved. */
  private readonly legacyKnownHostsDir: string;
  private readonly store: Store;
  private readonly connectTimeoutMs: number;
  private readonly trustOnFirstUse: boolean;
  private readonly secrets: SecretResolver;

  constructor(options: SshHostDriverOptions) {
    this.legacyKnownHostsDir = path.join(options.stateDir, 'ssh-known-hosts');
    this.store = options.store;
    this.connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.trustOnFirstUse = options.trustOnFirstUse ?? true;
    this.secrets = options.secrets ?? SecretResolver.fromEnv();
  }

  needsSudo(host: Host): boolean {
    return host.ssh?.user !== 'root';
  }

  async open(host: Host, signal?: AbortSignal): Promise<CommandSession> {
    const ssh = host.ssh;
    const where = `ssh host ${host.name} (${host.address}:${host.port ?? 22})`;
    if (!ssh) throw nonRetryable(`${where}: the inventory gives no ssh settings (user, privateKeyRef)`, HostFailureType.misconfigured);
    signal?.throwIfAborted();
    const privateKey = await this.secrets.resolve(ssh.privateKeyRef);
    const pinned = normalizeFingerprint(ssh.hostKeySha256) ?? (await this.firstSeenKey(host));
    let presented: string | undefined;
    let refusedKey = false;

    const client = new Client();
    // An error after the handshake (a dropped connection) reaches the running command through 'close'.
    client.on('error', () => undefined);
    try {
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          client.destroy();
          reject(signal?.reason);
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        client.once('ready', () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        });
        client.once('error', (error: Error & { level?: string; code?: string }) => {
          signal?.removeEventListener('abort', onAbort);
          if (refusedKey) {
            reject(
              pinned
                ? nonRetryable(
                    `${where} presented host key SHA256:${presented}, not the expected SHA256:${pinned}; refusing to connect`,
                    HostFailureType.hostKeyMismatch,
                    { host: host.name, presented, expected: pinned },
                  )
                : nonRetryable(
                    `${where}: no host key is pinned (ssh.hostKeySha256) and trust on first use is off; ` +
                      `it presented SHA256:${presented}`,
                    HostFailureType.hostKeyMismatch,
                    { host: host.name, presented },
                  ),
            );
          } else reject(connectFailure(where, ssh.user, ssh.privateKeyRef, error, privateKey));
        });
        try {
          client.connect({
            host: host.address,
            port: host.port ?? 22,
            username: ssh.user,
            privateKey,
            tryKeyboard: false,
            readyTimeout: this.connectTimeoutMs,
            keepaliveInterval: 15_000,
            keepaliveCountMax: 4,
            hostVerifier: (key: Buffer) => {
              presented = fingerprint(key);
              refusedKey = !(pinned ? presented === pinned : this.trustOnFirstUse);
              return !refusedKey;
            },
          });
        } catch (error) {
          // ssh2 throws at once on a key it cannot parse.
          signal?.removeEventListener('abort', onAbort);
          reject(
            nonRetryable(
              `${where}: the private key from ${ssh.privateKeyRef} cannot be used: ${redact((error as Error).message, privateKey)}`,
              HostFailureType.misconfigured,
            ),
          );
        }
      });
    } catch (error) {
      client.destroy();
      throw error;
    }
    if (!pinned && presented) {
      try {
        await this.rememberKey(host, presented, where);
      } catch (error) {
        client.end();
        throw error;
      }
    }
    return {
      run: (script, timeoutMs, runSignal) => runRemote(client, where, script, timeoutMs, runSignal),
      close: () => client.end(),
    };
  }

  /** The key first seen for the host by any worker; a key this worker remembered in a file before is moved into the store. */
  private async firstSeenKey(host: Host): Promise<string | undefined> {
    const remembered = await this.store.knownHostKeys.get(host.name);
    if (remembered) return remembered;
    const legacy = normalizeFingerprint(
      (await readIfExists(path.join(this.legacyKnownHostsDir, `${host.name}.sha256`))).trim() || undefined,
    );
    return legacy && this.store.knownHostKeys.remember(host.name, legacy);
  }

  /** Trust on first use: keeps the first key seen by any worker; a concurrent first connection that saw another key is refused. */
  private async rememberKey(host: Host, presented: string, where: string): Promise<void> {
    const remembered = await this.store.knownHostKeys.remember(host.name, presented);
    if (remembered !== presented) {
      throw nonRetryable(
        `${where} presented host key SHA256:${presented}, not the SHA256:${remembered} seen first; refusing to connect`,
        HostFailureType.hostKeyMismatch,
        { host: host.name, presented, expected: remembered },
      );
    }
  }
}

/** A HostDriver for hosts reached over SSH; the OS family's commands run on the host (see OsCommands). */
export class SshHostDriver extends CommandHostDriver {
  constructor(options: SshHostDriverOptions) {
    super(new SshTransport(options), options);
  }
}

/** sha256 of the host key blob, base64 without padding: what `ssh-keygen -l` prints after `SHA256:`. */
export function fingerprint(key: Buffer): string {
  return createHash('sha256').update(key).digest('base64').replace(/=+$/, '');
}

function normalizeFingerprint(value: string | undefined): string | undefined {
  return value ? value.replace(/^SHA256:/, '').replace(/=+$/, '') : undefined;
}

/**
 * How the host runs a command: in a session of its own (setsid) under `timeout`, and a watcher
 * that kills that whole session when the channel's stdin closes, which sshd does when the channel
 * is closed (the activity was cancelled) or the connection drops (the worker died). Without it,
 * the command would run on after its worker, until its time limit. The watcher reads the
 * channel's stdin through fd 3: a background job's own stdin would be /dev/null.
 */
const REMOTE_WRAPPER =
  'exec 3<&0; setsid timeout -k 10 "$1" bash -c "$2" </dev/null & command=$!; ' +
  '{ cat <&3 >/dev/null; kill -TERM -- "-$command"; sleep 10; kill -KILL -- "-$command"; } >/dev/null 2>&1 & watcher=$!; ' +
  'exec 3<&-; wait "$command"; code=$?; kill "$watcher"; exit "$code"';

function runRemote(client: Client, where: string, script: string, timeoutMs: number, signal?: AbortSignal): Promise<CommandResult> {
  const seconds = Math.max(1, Math.ceil(timeoutMs / 1000));
  const command = `bash -c ${shellQuote(REMOTE_WRAPPER)} runbooks-command ${seconds} ${shellQuote(script)}`;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const output = new OutputCollector();
    let channel: ClientChannel | undefined;
    let exitCode: number | null = null;
    let timedOut = false;
    let settled = false;
    const finish = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      client.removeListener('close', onConnectionClosed);
      outcome();
    };
    // The host's own `timeout` should end the command; this ends the wait should the host not.
    const timer = setTimeout(() => {
      timedOut = true;
      channel?.close();
      finish(() => resolve(output.result(null, true)));
    }, timeoutMs + REMOTE_TIMEOUT_GRACE_MS);
    const onAbort = () => {
      channel?.close();
      finish(() => reject(signal?.reason));
    };
    const onConnectionClosed = () =>
      finish(() => reject(retryable(`${where}: the connection closed while a command ran`, HostFailureType.unreachable)));
    signal?.addEventListener('abort', onAbort, { once: true });
    client.once('close', onConnectionClosed);
    client.exec(command, (error, stream) => {
      if (error) {
        finish(() => reject(retryable(`${where}: the host refused to run a command: ${error.message}`, HostFailureType.unreachable)));
        return;
      }
      channel = stream;
      if (settled) {
        stream.close();
        return;
      }
      stream.on('data', output.stdout);
      stream.stderr.on('data', output.stderr);
      stream.on('exit', (code: number | null) => {
        exitCode = typeof code === 'number' ? code : null;
      });
      stream.on('close', () => {
        const stoppedByTimeout = exitCode !== null && TIMEOUT_EXIT_CODES.has(exitCode);
        finish(() => resolve(output.result(exitCode, timedOut || stoppedByTimeout)));
      });
      // stdin stays open while the command runs: its closing is the host's signal to stop it.
    });
  });
}

/** Why a connection failed, in words, classified; never with the key (redacted should a library echo it). */
function connectFailure(
  where: string,
  user: string,
  keyRef: string,
  error: Error & { level?: string; code?: string },
  privateKey: string,
): Error {
  const message = redact(error.message, privateKey);
  if (error.level === 'client-authentication') {
    return nonRetryable(
      `${where}: user ${user} was refused with the key from ${keyRef} (${message})`,
      HostFailureType.authenticationFailed,
    );
  }
  if (error.level === 'client-timeout') {
    return retryable(`${where}: no SSH handshake within the connection timeout`, HostFailureType.unreachable);
  }
  return retryable(`${where} cannot be reached: ${error.code ? `${error.code}: ` : ''}${message}`, HostFailureType.unreachable);
}

/** The message with the key, and every longer line of it, cut out. */
function redact(message: string, privateKey: string): string {
  let text = message.split(privateKey).join('***');
  for (const line of privateKey.split('\n')) if (line.trim().length >= 16) text = text.split(line.trim()).join('***');
  return text;
}
