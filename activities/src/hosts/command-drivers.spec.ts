import { ApplicationFailure } from '@temporalio/common';
import type { Host } from '@runbooks/contracts';
import { execFileSync } from 'node:child_process';
import type { Store } from '@runbooks/store';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { storeIn } from '../test-support/store';
import os from 'node:os';
import path from 'node:path';
import type { CommandHostDriver, CommandTimeouts } from './command-driver';
import { HostFailureType } from './failures';
import { LocalHostDriver } from './local';
import { debianCommands, shellQuote, type OsCommands } from './os-commands';
import { SshHostDriver } from './ssh';
import { TestSecrets } from '../test-support/secrets';
import { freePort, startSshServer, type SshServer } from '../test-support/ssh-server';

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApplicationFailure);
  return error as ApplicationFailure;
}

/**
 * Stand-ins for the package commands that act on files under `dir`: `versions` holds the
 * `name=version` lines, `healthy` marks a healthy host, `fail-patch` makes the patch fail as apt does.
 */
function fileCommands(dir: string): OsCommands {
  const d = shellQuote(dir);
  const write =
    `for spec in {{patches}}; do name="\${spec%%=*}"; { grep -v "^$name=" ${d}/versions || true; } > ${d}/versions.tmp; ` +
    `echo "$spec" >> ${d}/versions.tmp; mv ${d}/versions.tmp ${d}/versions; done`;
  return {
    snapshot: `cat ${d}/versions`,
    patch: `if [ -e ${d}/fail-patch ]; then echo 'E: Could not get lock /var/lib/dpkg/lock-frontend' >&2; exit 100; fi; ${write}`,
    health: `if [ -e ${d}/healthy ]; then echo running; else echo degraded >&2; exit 1; fi`,
    restore: write,
    packageSpec: '{{package}}={{version}}',
  };
}

/** Whether a process whose command line holds `marker` runs on this machine. */
function processRunning(marker: string): boolean {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .some((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(marker);
      } catch {
        return false; // ended meanwhile
      }
    });
}

/** The lines of the private key that identify it (its base64 body). */
function keyLines(key: string): string[] {
  return key
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length >= 16 && !line.startsWith('-----'));
}

interface Transport {
  kind: 'ssh' | 'local';
  host(overrides?: Partial<Host['ssh']>): Host;
  /** A driver as a worker with this state folder has it; by default its store is in that folder too. */
  driver(stateDir: string, commands: OsCommands, timeoutsMs?: Partial<CommandTimeouts>, store?: Store): CommandHostDriver;
}

describe('command host drivers (ssh against a real OpenSSH server on loopback, and local)', () => {
  let root: string;
  const keys = new TestSecrets();
  let server: SshServer;

  beforeAll(async () => {
    root = mkdtempSync(path.join(os.tmpdir(), 'command-drivers-'));
    server = await startSshServer(mkdtempSync(path.join(root, 'sshd-')));
    for (const [name, key] of [
      ['ssh/client', server.clientKey],
      ['ssh/stranger', readFileSync(server.strangerKeyFile, 'utf8')],
      ['ssh/broken', server.clientKey.replace(/AAAA/g, 'AA!A')],
    ]) {
      keys.writeFileSecret(name, key);
      keys.define({ name, source: { backend: 'file', file: name }, runbooks: ['security-patching'], roles: ['admin'] });
    }
  });
  afterAll(async () => {
    await server?.stop();
    keys.remove();
    rmSync(root, { recursive: true, force: true });
  });

  const ssh: Transport = {
    kind: 'ssh',
    host: (overrides) => ({
      name: 'web-1',
      address: '127.0.0.1',
      port: server.port,
      osFamily: 'debian',
      tags: [],
      driver: 'ssh',
      ssh: {
        user: os.userInfo().username,
        privateKeyRef: 'secret:ssh/client',
        hostKeySha256: server.hostKeySha256,
        ...overrides,
      },
    }),
    driver: (stateDir, commands, timeoutsMs, store = storeIn(stateDir)) =>
      new SshHostDriver({ stateDir, store, osCommands: { debian: commands }, timeoutsMs, secrets: keys.resolver() }),
  };
  const local: Transport = {
    kind: 'local',
    host: () => ({ name: 'worker-1', address: 'localhost', osFamily: 'debian', tags: [], driver: 'local' }),
    driver: (stateDir, commands, timeoutsMs, store = storeIn(stateDir)) =>
      new LocalHostDriver({ stateDir, store, osCommands: { debian: commands }, timeoutsMs }),
  };

  describe.each([ssh, local])('$kind', (transport) => {
    let dir: string;
    let stateDir: string;
    let driver: CommandHostDriver;
    const versionsFile = () => path.join(dir, 'versions');
    const versions = () => readFileSync(versionsFile(), 'utf8').trim().split('\n').sort();

    beforeEach(() => {
      dir = mkdtempSync(path.join(root, `${transport.kind}-host-`));
      stateDir = mkdtempSync(path.join(root, `${transport.kind}-state-`));
      writeFileSync(versionsFile(), 'openssl=3.0.1\ncurl=7.88.1\nzlib=1.2.13\n');
      driver = transport.driver(stateDir, fileCommands(dir));
    });

    it('snapshot, patch, health and restore run the templates and change the files as expected', async () => {
      const host = transport.host();
      const { snapshotId } = await driver.snapshot(host, 'run-1/snapshot', undefined, ['openssl', 'curl']);

      const patched = await driver.patch(
        host,
        [
          { package: 'openssl', version: '3.0.2' },
          { package: 'curl', version: '8.0.0' },
        ],
        'run-1/patch',
      );
      expect(patched.changed).toEqual([
        { package: 'openssl', from: '3.0.1', to: '3.0.2' },
        { package: 'curl', from: '7.88.1', to: '8.0.0' },
      ]);
      expect(versions()).toEqual(['curl=8.0.0', 'openssl=3.0.2', 'zlib=1.2.13']);

      const unhealthy = await driver.health(host);
      writeFileSync(path.join(dir, 'healthy'), '');
      const healthy = await driver.health(host);
      expect(unhealthy).toEqual({ healthy: false, detail: expect.stringMatching(new RegExp(`${host.name}.*exited 1.*degraded`)) });
      expect(healthy).toEqual({ healthy: true, detail: expect.stringContaining('running') });

      const restored = await driver.restore(host, snapshotId, 'run-1/restore');
      expect(restored.restored).toEqual(['curl', 'openssl']);
      expect(versions()).toEqual(['curl=7.88.1', 'openssl=3.0.1', 'zlib=1.2.13']);
      const record = await storeIn(stateDir).snapshots.get(transport.kind, snapshotId);
      expect(JSON.parse(record?.body ?? '{}').packages).toEqual({ curl: '7.88.1', openssl: '3.0.1' });
      expect((await driver.ledger()).map((e) => e.op)).toEqual(['snapshot', 'patch', 'restore']);
    });

    it('a rollback on another worker (its own state folder, the same store) finds the snapshot taken on this one', async () => {
      const host = transport.host();
      const store = storeIn(stateDir);
      const { snapshotId } = await transport.driver(stateDir, fileCommands(dir), undefined, store).snapshot(host, 'run-2/snapshot');
      await driver.patch(host, [{ package: 'openssl', version: '3.0.2' }], 'run-2/patch');

      const otherWorker = transport.driver(mkdtempSync(path.join(root, 'other-worker-')), fileCommands(dir), undefined, store);
      const restored = await otherWorker.restore(host, snapshotId, 'run-2/restore');

      expect(restored.restored).toEqual(['openssl']);
      expect(versions()).toEqual(['curl=7.88.1', 'openssl=3.0.1', 'zlib=1.2.13']);
    });

    it('a retried patch with the same key runs no command and returns the recorded result', async () => {
      const host = transport.host();
      const first = await driver.patch(host, [{ package: 'openssl', version: '3.0.2' }], 'run-1/patch');
      writeFileSync(versionsFile(), 'openssl=9.9.9\n');

      const retried = await transport
        .driver(stateDir, fileCommands(dir))
        .patch(host, [{ package: 'openssl', version: '3.0.2' }], 'run-1/patch');

      expect(retried).toEqual(first);
      expect(versions()).toEqual(['openssl=9.9.9']);
      expect(await driver.ledger()).toHaveLength(1);
    });

    it("a failing command's error names the host and the command's stderr", async () => {
      const host = transport.host();
      writeFileSync(path.join(dir, 'fail-patch'), '');

      const failure = await failureOf(driver.patch(host, [{ package: 'openssl', version: '3.0.2' }], 'run-1/patch'));

      expect(failure.type).toBe(HostFailureType.patchFailed);
      expect(failure.message).toContain(`${transport.kind} host ${host.name}`);
      expect(failure.message).toContain('exit code 100');
      expect(failure.message).toContain('E: Could not get lock /var/lib/dpkg/lock-frontend');
      expect(versions()).toEqual(['curl=7.88.1', 'openssl=3.0.1', 'zlib=1.2.13']);
      expect(await driver.ledger()).toEqual([]);
    });

    it('a patch command that exits 0 without reaching the version is PatchFailed', async () => {
      const lazy = transport.driver(stateDir, { ...fileCommands(dir), patch: 'true' });

      const failure = await failureOf(lazy.patch(transport.host(), [{ package: 'openssl', version: '3.0.2' }], 'k'));

      expect(failure.type).toBe(HostFailureType.patchFailed);
      expect(failure.message).toContain('openssl is at 3.0.1, not 3.0.2');
    });

    it('a command that runs past its time limit is stopped (killed, not left running) and reported', async () => {
      const marker = `59.${process.pid}${transport.kind === 'ssh' ? 1 : 2}`; // sleep takes fractional seconds
      const slow = transport.driver(stateDir, { ...fileCommands(dir), health: `sleep ${marker}; echo woke` }, { health: 1_000 });
      const started = Date.now();

      const health = await slow.health(transport.host());

      expect(health).toEqual({ healthy: false, detail: expect.stringContaining('did not finish within 1s') });
      expect(Date.now() - started).toBeLessThan(20_000);
      const deadline = Date.now() + 5_000;
      while (processRunning(marker) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(processRunning(marker)).toBe(false);
    });
    it('a cancelled command is stopped with everything it started, on the host too', async () => {
      const marker = `58.${process.pid}${transport.kind === 'ssh' ? 1 : 2}`;
      const slow = transport.driver(
        stateDir,
        { ...fileCommands(dir), health: `sleep ${marker} & sleep ${marker}; wait` },
        { health: 120_000 },
      );
      const controller = new AbortController();

      const health = slow.health(transport.host(), controller.signal);
      const runningDeadline = Date.now() + 10_000;
      while (!processRunning(marker) && Date.now() < runningDeadline) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(processRunning(marker)).toBe(true);
      controller.abort(new Error('activity cancelled'));

      await expect(health).rejects.toThrow('activity cancelled');
      const deadline = Date.now() + 10_000;
      while (processRunning(marker) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(processRunning(marker)).toBe(false);
    });
  });

  describe('ssh only', () => {
    let dir: string;
    let stateDir: string;
    let driver: CommandHostDriver;

    beforeEach(() => {
      dir = mkdtempSync(path.join(root, 'ssh-only-host-'));
      stateDir = mkdtempSync(path.join(root, 'ssh-only-state-'));
      writeFileSync(path.join(dir, 'versions'), 'openssl=3.0.1\n');
      driver = ssh.driver(stateDir, fileCommands(dir));
    });

    it('accepts the pinned host key as ssh-keygen prints it, with or without SHA256:', async () => {
      await expect(driver.health(ssh.host({ hostKeySha256: `SHA256:${server.hostKeySha256}` }))).resolves.toMatchObject({ healthy: false });
    });

    it('refuses a host whose key is not the pinned one with HostKeyMismatch, and runs nothing', async () => {
      const wrong = Buffer.alloc(32, 7).toString('base64').replace(/=+$/, '');

      const failure = await failureOf(driver.patch(ssh.host({ hostKeySha256: wrong }), [{ package: 'openssl', version: '3.0.2' }], 'k'));

      expect(failure.type).toBe(HostFailureType.hostKeyMismatch);
      expect(failure.nonRetryable).toBe(true);
      expect(failure.message).toContain('web-1');
      expect(failure.message).toContain(server.hostKeySha256);
      expect(readFileSync(path.join(dir, 'versions'), 'utf8')).toBe('openssl=3.0.1\n');
    });

    it('trusts an unpinned host on first use for every worker: the key is kept in the shared store, and a worker on another machine refuses the host once its key changed', async () => {
      const unpinned = ssh.host({ hostKeySha256: undefined });
      const store = storeIn(stateDir);
      await driver.health(unpinned);
      expect(await store.knownHostKeys.get('web-1')).toBe(server.hostKeySha256);
      expect(existsSync(path.join(stateDir, 'ssh-known-hosts'))).toBe(false); // nothing kept on this machine

      const changed = Buffer.alloc(32, 1).toString('base64').replace(/=+$/, '');
      await store.db.updateTable('ssh_known_hosts').set({ sha256: changed }).where('host', '=', 'web-1').execute();
      const otherMachine = ssh.driver(mkdtempSync(path.join(root, 'ssh-other-worker-')), fileCommands(dir), undefined, store);
      const failure = await failureOf(otherMachine.health(unpinned));

      expect(failure.type).toBe(HostFailureType.hostKeyMismatch);
      expect(failure.message).toContain(changed);
    });

    it('moves a key remembered in the old known-hosts folder into the store and holds the host to it', async () => {
      const unpinned = ssh.host({ hostKeySha256: undefined });
      const legacy = Buffer.alloc(32, 2).toString('base64').replace(/=+$/, '');
      mkdirSync(path.join(stateDir, 'ssh-known-hosts'));
      writeFileSync(path.join(stateDir, 'ssh-known-hosts', 'web-1.sha256'), `${legacy}\n`);

      const failure = await failureOf(driver.health(unpinned));

      expect(failure.type).toBe(HostFailureType.hostKeyMismatch);
      expect(await storeIn(stateDir).knownHostKeys.get('web-1')).toBe(legacy);
    });

    it('refuses unpinned hosts when trust on first use is off', async () => {
      const strict = new SshHostDriver({
        stateDir,
        store: storeIn(stateDir),
        osCommands: { debian: fileCommands(dir) },
        trustOnFirstUse: false,
        secrets: keys.resolver(),
      });

      const failure = await failureOf(strict.health(ssh.host({ hostKeySha256: undefined })));

      expect(failure.type).toBe(HostFailureType.hostKeyMismatch);
      expect(failure.message).toContain('no host key is pinned');
    });

    it('never puts the private key in an error, whatever fails', async () => {
      writeFileSync(path.join(dir, 'fail-patch'), '');
      const attempts: [string, Host][] = [
        ['failing command', ssh.host()],
        ['wrong host key', ssh.host({ hostKeySha256: Buffer.alloc(32, 3).toString('base64').replace(/=+$/, '') })],
        ['refused key', ssh.host({ privateKeyRef: 'secret:ssh/stranger' })],
        ['unparsable key', ssh.host({ privateKeyRef: 'secret:ssh/broken' })],
        ['closed port', { ...ssh.host(), port: await (async () => freePort())() }],
      ];
      const types: Record<string, string> = {};
      const secrets = [...keyLines(server.clientKey), ...keyLines(readFileSync(server.strangerKeyFile, 'utf8'))];

      for (const [what, host] of attempts) {
        const failure = await failureOf(driver.patch(host, [{ package: 'openssl', version: '3.0.2' }], `k-${what}`));
        types[what] = failure.type ?? '';
        const everything = `${failure.message}\n${failure.stack}\n${JSON.stringify(failure.details)}\n${String(failure.cause)}`;
        expect(everything).toContain('web-1');
        for (const secret of secrets) expect(everything).not.toContain(secret);
      }

      expect(types).toEqual({
        'failing command': HostFailureType.patchFailed,
        'wrong host key': HostFailureType.hostKeyMismatch,
        'refused key': HostFailureType.authenticationFailed,
        'unparsable key': HostFailureType.misconfigured,
        'closed port': HostFailureType.unreachable,
      });
    });
  });

  describe('local only', () => {
    it("runs the default debian snapshot command on this machine and records the packages' versions", async () => {
      const stateDir = mkdtempSync(path.join(root, 'local-debian-'));
      const store = storeIn(stateDir);
      // Without keepPackages: keeping .debs for a rollback is proven on a test apt repository (debian-commands.spec.ts).
      const driver = new LocalHostDriver({ stateDir, store, osCommands: { debian: { ...debianCommands(), keepPackages: undefined } } });
      const expected = execFileSync('dpkg-query', ['-W', '-f=${Version}', 'bash'], { encoding: 'utf8' });

      const { snapshotId } = await driver.snapshot(local.host(), 'k', undefined, ['bash', 'dpkg']);

      const snapshot = JSON.parse((await store.snapshots.get('local', snapshotId))?.body ?? '{}');
      expect(snapshot.host).toBe('worker-1');
      expect(Object.keys(snapshot.packages)).toEqual(['bash', 'dpkg']);
      expect(snapshot.packages.bash).toBe(expected);
    });
  });
});
