import type { Host } from '@runbooks/contracts';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createAptRepository, type AptRepositoryFixture } from '../test-support/apt-repository';
import { TestSecrets } from '../test-support/secrets';
import { defineSshClientKey, sshHostOn, startSshServer, type SshServer } from '../test-support/ssh-server';
import { storeIn } from '../test-support/store';
import type { CommandHostDriver } from './command-driver';
import { LocalHostDriver } from './local';
import { debianCommands } from './os-commands';
import { SshHostDriver } from './ssh';

/**
 * The default Debian templates with real apt and dpkg, on a package root of their own (the only
 * difference to a real host: see debianCommands), through the local driver and through a real sshd.
 */
describe('default Debian commands with real apt and dpkg (local, and ssh on loopback)', () => {
  let apt: AptRepositoryFixture;
  let server: SshServer;
  let stateRoot: string;
  const keys = new TestSecrets();

  // Each test drops versions from its repository: a fresh one per test.
  beforeEach(() => {
    apt = createAptRepository([
      { name: 'rb-hello', version: '1.0-1' },
      { name: 'rb-hello', version: '2.0-1' },
      { name: 'rb-motd', version: '1.0-1' },
      { name: 'rb-motd', version: '2.0-1', exitCode: 3 },
    ]);
  });
  afterEach(() => apt?.remove());

  beforeAll(async () => {
    stateRoot = mkdtempSync(path.join(os.tmpdir(), 'debian-commands-'));
    server = await startSshServer(mkdtempSync(path.join(stateRoot, 'sshd-')));
    defineSshClientKey(keys, server);
  });
  afterAll(async () => {
    await server?.stop();
    keys.remove();
    rmSync(stateRoot, { recursive: true, force: true });
  });

  const transports = [
    {
      kind: 'local',
      driver: (stateDir: string, root: string): CommandHostDriver =>
        new LocalHostDriver({ stateDir, store: storeIn(stateDir), osCommands: { debian: debianCommands(root) } }),
      host: (health: Host['health']): Host => ({
        name: 'worker-1',
        address: 'localhost',
        osFamily: 'debian',
        tags: [],
        driver: 'local',
        health,
      }),
    },
    {
      kind: 'ssh',
      driver: (stateDir: string, root: string): CommandHostDriver =>
        new SshHostDriver({ stateDir, store: storeIn(stateDir), osCommands: { debian: debianCommands(root) }, secrets: keys.resolver() }),
      host: (health: Host['health']): Host => sshHostOn(server, 'web-1', { tags: [], health }),
    },
  ];

  describe.each(transports)('$kind', (transport) => {
    it('patches with apt, checks the services, and rolls back from the kept .debs after the old version left the index', async () => {
      const root = apt.packageRoot(`${transport.kind}-rollback`, [
        { package: 'rb-hello', version: '1.0-1' },
        { package: 'rb-motd', version: '1.0-1' },
      ]);
      const driver = transport.driver(mkdtempSync(path.join(stateRoot, 'state-')), root);
      const host = transport.host({ units: [], commands: [`${root}/usr/bin/rb-hello`, `${root}/usr/bin/rb-motd`] });
      const patches = [
        { package: 'rb-hello', version: '2.0-1' },
        { package: 'rb-motd', version: '2.0-1' },
      ];

      const { snapshotId } = await driver.snapshot(host, 'snap', undefined, ['rb-hello', 'rb-motd']);
      const { changed } = await driver.patch(host, patches, 'patch');
      expect(changed).toEqual([
        { package: 'rb-hello', from: '1.0-1', to: '2.0-1' },
        { package: 'rb-motd', from: '1.0-1', to: '2.0-1' },
      ]);
      expect(apt.installed(root)).toEqual(
        new Map([
          ['rb-hello', '2.0-1'],
          ['rb-motd', '2.0-1'],
        ]),
      );

      // rb-motd 2.0-1 is a broken release: its program exits 3.
      const health = await driver.health(host);
      expect(health.healthy).toBe(false);
      expect(health.detail).toContain(`failed: ${root}/usr/bin/rb-motd: rb-motd 2.0-1`);
      expect(health.detail).toContain(`passed: ${root}/usr/bin/rb-hello`);

      apt.drop('rb-hello', '1.0-1');
      apt.drop('rb-motd', '1.0-1');
      const restored = await driver.restore(host, snapshotId, 'restore');
      expect(restored.restored).toEqual(['rb-hello', 'rb-motd']);
      expect(apt.installed(root)).toEqual(
        new Map([
          ['rb-hello', '1.0-1'],
          ['rb-motd', '1.0-1'],
        ]),
      );
      expect((await driver.health(host)).healthy).toBe(true);
    });

    it('reports a unit that is not active by name (no "any degraded unit" verdict)', async () => {
      const root = apt.packageRoot(`${transport.kind}-units`, []);
      const driver = transport.driver(mkdtempSync(path.join(stateRoot, 'state-')), root);
      const health = await driver.health(transport.host({ units: ['runbooks-test-no-such.service'], commands: [] }));
      expect(health.healthy).toBe(false);
      expect(health.detail).toContain('runbooks-test-no-such.service');
    });
  });
});
