import { WorkflowFailedError, type Client, type Connection, type WorkflowHandle } from '@temporalio/client';
import {
  requestCancelUpdate,
  runStateQuery,
  securityPatchingInputSchema,
  type Host,
  type Patch,
  type RunState,
  type RunbookStartArgs,
  type SecurityPatchingInput,
} from '@runbooks/contracts';
import { debianCommands } from '@runbooks/activities';
import { createAptRepository, type AptRepositoryFixture } from '../../activities/src/test-support/apt-repository';
import { TestSecrets } from '../../activities/src/test-support/secrets';
import { defineSshClientKey, sshHostOn, startSshServer, type SshServer } from '../../activities/src/test-support/ssh-server';
import { gatePending, operator, requester, whenState, withHostRecords } from './harness/fleet-campaign';
import { startTestWorker, testClient, type TestWorker } from './harness/worker';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** rb-motd 2.0-1 is a broken release: its program exits 3, so the host's check on it fails. */
const PACKAGES = [
  { name: 'rb-hello', version: '1.0-1' },
  { name: 'rb-hello', version: '2.0-1' },
  { name: 'rb-motd', version: '1.0-1' },
  { name: 'rb-motd', version: '2.0-1', exitCode: 3 },
];
const OLD: Patch[] = [
  { package: 'rb-hello', version: '1.0-1' },
  { package: 'rb-motd', version: '1.0-1' },
];

let client: Client;
let connection: Connection;
let server: SshServer;
let root: string;
const secrets = new TestSecrets();

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'apt-patching-it-'));
  server = await startSshServer(await fs.mkdtemp(path.join(root, 'sshd-')));
  defineSshClientKey(secrets, server);
  ({ client, connection } = await testClient());
});

afterAll(async () => {
  await connection?.close();
  await server?.stop();
  secrets.remove();
  await fs.rm(root, { recursive: true, force: true });
});

/** The host as the inventory lists it: its health is its two programs answering. */
function hostFor(driver: 'local' | 'ssh', packageRoot: string): Host {
  const health = { units: [], commands: [`${packageRoot}/usr/bin/rb-hello`, `${packageRoot}/usr/bin/rb-motd`] };
  return driver === 'local'
    ? { name: 'local-apt-1', address: 'localhost', osFamily: 'debian', tags: ['apt-lab'], driver, health }
    : sshHostOn(server, 'ssh-apt-1', { tags: ['apt-lab'], health });
}

interface AptHost {
  apt: AptRepositoryFixture;
  packageRoot: string;
  worker: TestWorker;
  stop(): Promise<void>;
}

/** A fresh apt repository, a package root holding the old versions, and a worker whose Debian commands act on that root. */
async function aptHost(driver: 'local' | 'ssh'): Promise<AptHost> {
  const apt = createAptRepository(PACKAGES);
  const packageRoot = apt.packageRoot(driver, OLD);
  const dir = await fs.mkdtemp(path.join(root, `${driver}-`));
  const inventoryFile = path.join(dir, 'inventory.json');
  await fs.writeFile(inventoryFile, JSON.stringify({ hosts: [hostFor(driver, packageRoot)] }));
  const worker = await startTestWorker({
    hosts: {
      inventoryFile,
      labRoot: path.join(dir, 'lab'),
      stateDir: path.join(dir, 'state'),
      osCommands: { debian: debianCommands(packageRoot) },
    },
    secrets: secrets.config,
  });
  return {
    apt,
    packageRoot,
    worker,
    async stop() {
      await worker.stop();
      apt.remove();
    },
  };
}

function launch(worker: TestWorker, patches: Patch[]): Promise<WorkflowHandle> {
  const input: SecurityPatchingInput = securityPatchingInputSchema.parse({
    targets: { tags: ['apt-lab'] },
    canary: { tags: ['apt-lab'] },
    patches,
    waves: ['rest'],
    bakeSeconds: 0,
    hostTimeoutSeconds: 120,
    failureThreshold: { count: 0 },
  });
  const args: RunbookStartArgs<SecurityPatchingInput> = { input, requestedBy: requester };
  return client.workflow.start('securityPatching', {
    taskQueue: worker.taskQueue,
    workflowId: `security-patching-apt-${randomUUID()}`,
    args: [args],
  });
}

/** The run's final state, with every host's record from the worker's store. */
async function finalState(handle: WorkflowHandle, worker: TestWorker): Promise<RunState> {
  await handle.result().catch((e: unknown) => {
    if (!(e instanceof WorkflowFailedError)) throw e;
  });
  return withHostRecords(await handle.query(runStateQuery), worker.store);
}

const versions = (entries: [string, string][]) => new Map(entries);

describe.each(['local', 'ssh'] as const)(
  'security-patching with real apt and dpkg through the %s driver, on a real Temporal server',
  (driver) => {
    test('patches the canary with apt; a cancel at the gate rolls it back from the kept .debs after the old versions left the index', async () => {
      const host = await aptHost(driver);
      try {
        const handle = await launch(host.worker, [
          { package: 'rb-hello', version: '2.0-1' },
          { package: 'rb-motd', version: '1.0-1' },
        ]);
        const atGate = await withHostRecords(await whenState(handle, 'production gate pending', gatePending, 120_000), host.worker.store);
        expect(atGate.rollout?.hosts.map((h) => [h.name, h.state])).toEqual([[`${driver}-apt-1`, 'patched']]);
        expect(host.apt.installed(host.packageRoot)).toEqual(
          versions([
            ['rb-hello', '2.0-1'],
            ['rb-motd', '1.0-1'],
          ]),
        );

        // The mirror moves on: the version to roll back to can no longer be downloaded.
        host.apt.drop('rb-hello', '1.0-1');
        await handle.executeUpdate(requestCancelUpdate, { args: [{ reason: 'vendor pulled the patch', principal: operator }] });
        await handle.cancel();
        const state = await finalState(handle, host.worker);

        expect(state.status).toBe('cancelled');
        expect(host.apt.installed(host.packageRoot)).toEqual(
          versions([
            ['rb-hello', '1.0-1'],
            ['rb-motd', '1.0-1'],
          ]),
        );
        expect(state.rollout?.hosts.map((h) => [h.name, h.state])).toEqual([[`${driver}-apt-1`, 'rolled_back']]);
      } finally {
        await host.stop();
      }
    });

    test("a release that fails the host's service check is rolled back by apt on that host and stops the campaign", async () => {
      const host = await aptHost(driver);
      try {
        const handle = await launch(host.worker, [{ package: 'rb-motd', version: '2.0-1' }]);
        const state = await finalState(handle, host.worker);

        expect(state.status).toBe('failed');
        const record = state.rollout?.hosts.find((h) => h.name === `${driver}-apt-1`);
        expect(record?.state).toBe('rolled_back');
        expect(record?.error).toContain('rb-motd 2.0-1');
        expect(host.apt.installed(host.packageRoot)).toEqual(
          versions([
            ['rb-hello', '1.0-1'],
            ['rb-motd', '1.0-1'],
          ]),
        );
      } finally {
        await host.stop();
      }
    });
  },
);
