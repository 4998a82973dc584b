import type { Host } from '@runbooks/contracts';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { TestSecrets } from './secrets';

const SSHD = '/usr/sbin/sshd';

/** A real OpenSSH server on a free loopback port, with its own host key and one authorized client key. */
export interface SshServer {
  port: number;
  hostKeySha256: string;
  clientKeyFile: string;
  clientKey: string;
  /** A key the server does not accept. */
  strangerKeyFile: string;
  stop(): Promise<void>;
}

function keygen(file: string): void {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'runbooks-test', '-f', file]);
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Whether something accepts TCP connections on the loopback port (a simulated machine's sshd runs). */
export function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function startSshServer(dir: string): Promise<SshServer> {
  if (!existsSync(SSHD)) {
    throw new Error(
      `${SSHD} is missing: the ssh driver tests need a real OpenSSH server (install the Debian package openssh-server: apt-get install openssh-server)`,
    );
  }
  keygen(path.join(dir, 'host_key'));
  keygen(path.join(dir, 'client_key'));
  keygen(path.join(dir, 'stranger_key'));
  writeFileSync(path.join(dir, 'authorized_keys'), readFileSync(path.join(dir, 'client_key.pub')));
  // `ssh-keygen -l` prints "256 SHA256:<base64> comment (ED25519)".
  const hostKeySha256 = execFileSync('ssh-keygen', ['-lf', path.join(dir, 'host_key.pub')], { encoding: 'utf8' })
    .split(' ')[1]
    .replace(/^SHA256:/, '');
  // sshd started as root insists on its privilege separation directory.
  if (process.getuid?.() === 0) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const port = await freePort();
  const config = [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${dir}/host_key`,
    `AuthorizedKeysFile ${dir}/authorized_keys`,
    `PidFile ${dir}/sshd.pid`,
    'UsePAM no',
    'StrictModes no',
    'PermitRootLogin prohibit-password',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'LogLevel VERBOSE',
  ];
  writeFileSync(path.join(dir, 'sshd_config'), `${config.join('\n')}\n`);
  const sshd: ChildProcess = spawn(SSHD, ['-D', '-e', '-f', path.join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sshd did not start listening within 10 s:\n${log}`)), 10_000);
    sshd.stderr?.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      if (log.includes('Server listening')) {
        clearTimeout(timer);
        resolve();
      }
    });
    sshd.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`sshd exited with code ${code} before listening:\n${log}`));
    });
  });
  return {
    port,
    hostKeySha256,
    clientKeyFile: path.join(dir, 'client_key'),
    clientKey: readFileSync(path.join(dir, 'client_key'), 'utf8'),
    strangerKeyFile: path.join(dir, 'stranger_key'),
    stop: async () => {
      if (sshd.exitCode !== null) return;
      const exited = new Promise((resolve) => sshd.once('exit', resolve));
      sshd.kill();
      await exited;
    },
  };
}

/** The secret name under which the tests give the workers the server's client key. */
export const SSH_CLIENT_KEY_SECRET = 'ssh/test-client';

/** Defines the client key of `server` in `secrets` as SSH_CLIENT_KEY_SECRET, for the runs of `runbooks` (default security-patching). */
export function defineSshClientKey(secrets: TestSecrets, server: SshServer, runbooks: string[] = ['security-patching']): void {
  secrets.writeFileSecret(SSH_CLIENT_KEY_SECRET, server.clientKey);
  secrets.define({
    name: SSH_CLIENT_KEY_SECRET,
    source: { backend: 'file', file: SSH_CLIENT_KEY_SECRET },
    runbooks,
    roles: ['admin'],
  });
}

/** An inventory entry for a host reached through `server` as the current user (key: SSH_CLIENT_KEY_SECRET), its host key pinned. */
export function sshHostOn(server: SshServer, name: string, extra: Pick<Host, 'tags' | 'health'> = { tags: [] }): Host {
  return {
    name,
    address: '127.0.0.1',
    port: server.port,
    osFamily: 'debian',
    driver: 'ssh',
    ...extra,
    ssh: { user: os.userInfo().username, privateKeyRef: `secret:${SSH_CLIENT_KEY_SECRET}`, hostKeySha256: server.hostKeySha256 },
  };
}
