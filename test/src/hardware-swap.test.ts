import type { Client, Connection } from '@temporalio/client';
import type { Host, RunState } from '@runbooks/contracts';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { InventoryStore } from '../../activities/src/hosts/inventory-store';
import { startBmcSimulator } from '../../activities/src/test-support/bmc-simulator';
import { TestSecrets } from '../../activities/src/test-support/secrets';
import { defineSshClientKey, listening, sshHostOn, startSshServer } from '../../activities/src/test-support/ssh-server';
import { createLabFleet, type LabFleetFixture } from '../../apps/worker/src/demo/lab-fixture';
import { ResticFixture, readTree, writeTree } from '../../apps/worker/src/demo/restic-fixture';
import { auth, startTestApi, type TestApi } from './api/app';
import { recordHistoryIfAsked } from './harness/recorded-histories';
import { WebhookReceiver } from './harness/webhook-receiver';
import { eventually, startTestWorker, testClient, type TestWorker } from './harness/worker';

const PASSWORD = 'hardware-swap-test-restic-password';
const PASSWORD_REF = 'secret:backup/workstations';
const DRIVERS_BEFORE = { 'firmware-sata': '1.0', 'linux-image': '6.1.0-25' };
const userFiles = {
  'thesis/chapter-1.md': '# Chapter 1\n\nThe data that must survive a disk swap.\n',
  'photos/readme.txt': 'photos of the lab\n',
  'budget.csv': 'item,amount\ndisk,120\n',
};

/**
 * The hardware-swap runbook end to end through the API on the real dev server: lab hosts with
 * simulated faulty parts (their data disks are real folders), real restic, the hands-on task
 * claimed and completed with evidence, the asset register read and written over HTTP.
 */
describe('hardware-swap through the API, on lab hosts with real restic', () => {
  let root: string;
  let lab: LabFleetFixture;
  let api: TestApi;
  let worker: TestWorker;
  let receiver: WebhookReceiver;
  let secrets: TestSecrets;
  let repository: string;
  let diskHost: string;
  let memoryHost: string;
  let client: Client;
  let connection: Connection;

  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'hardware-swap-'));
    process.env.RUNBOOKS_SECRET_WORKSTATIONS = PASSWORD;
    repository = (await ResticFixture.init(path.join(root, 'backups'), PASSWORD)).repository;
    secrets = new TestSecrets([
      {
        name: 'backup/workstations',
        source: { backend: 'env', variable: 'RUNBOOKS_SECRET_WORKSTATIONS' },
        runbooks: ['hardware-swap'],
        roles: ['technician'],
        repositories: [repository],
      },
    ]);
    lab = await createLabFleet({ dir: path.join(root, 'lab'), canary: 0, production: 2, prefix: 'ws', packages: DRIVERS_BEFORE });
    [diskHost, memoryHost] = lab.production;
    await lab.fleet.seed([
      {
        name: diskHost,
        packages: DRIVERS_BEFORE,
        hardware: {
          services: ['postgresql', 'nginx'],
          dataDir: userDataOf(diskHost),
          components: { disk: { serial: 'WD-OLD-0001', model: 'WD Red 4TB', faulty: true }, memory: ok('DIMM-0001') },
        },
      },
      {
        name: memoryHost,
        packages: DRIVERS_BEFORE,
        // The spare is dead on arrival: the swap fails its tests.
        faults: { faultyReplacement: true },
        hardware: {
          services: ['postgresql'],
          dataDir: userDataOf(memoryHost),
          components: { disk: ok('WD-GOOD-0002'), memory: { serial: 'DIMM-BAD-0003', model: 'Kingston 16GB DDR4-3200', faulty: true } },
        },
      },
    ]);
    await writeTree(userDataOf(diskHost), userFiles);
    await writeTree(userDataOf(memoryHost), userFiles);
    receiver = new WebhookReceiver();
    const webhookUrl = await receiver.start();
    api = await startTestApi(
      { store: lab.storeLocation, secretsFile: secrets.config.catalogFile },
      { restoreTargets: { rules: [{ repository, roots: [path.join(root, 'disks')] }] } },
    );
    worker = await startTestWorker({ taskQueue: api.taskQueue, hosts: lab, store: lab.store, webhookUrl, secrets: secrets.config });
    ({ client, connection } = await testClient());
  });

  afterAll(async () => {
    await api?.app.close();
    await worker?.stop();
    await connection?.close();
    await receiver?.stop();
    await lab?.store.close();
    secrets?.remove();
    await fs.rm(root, { recursive: true, force: true });
  });

  function userDataOf(host: string): string {
    return path.join(root, 'disks', host, 'home');
  }

  function ok(serial: string) {
    return { serial, model: 'generic', faulty: false };
  }

  function swapInput(host: string, assetTag: string) {
    return {
      host,
      assetTag,
      userData: { repository: { url: repository, passwordRef: PASSWORD_REF }, path: userDataOf(host) },
      services: ['postgresql'],
      drivers: [{ package: 'firmware-sata', version: '1.1' }],
      ticket: 'INC-5150',
      notify: ['erin@example.test'],
      slaSeconds: 600,
      escalationContact: 'hardware-3rd-line',
    };
  }

  const act = (who: 'gus' | 'fran', runId: string, action: string, body: Record<string, unknown> = {}) =>
    request(api.server).post(`/v1/runs/${runId}/tasks/swap-component/${action}`).set(auth(who)).send(body);

  async function launch(input: Record<string, unknown>): Promise<string> {
    const res = await request(api.server).post('/v1/runs').set(auth('tess')).send({ runbook: 'hardware-swap', input }).expect(201);
    return res.body.runId as string;
  }

  async function taskOpen(runId: string): Promise<RunState> {
    return eventually(
      async () => {
        const state = (await request(api.server).get(`/v1/runs/${runId}`).set(auth('tess')).expect(200)).body as RunState;
        if (state.status === 'failed') throw new Error(`run failed before its task: ${state.error}`);
        return state.tasks?.some((t) => t.id === 'swap-component' && t.state === 'open') ? state : undefined;
      },
      120_000,
      'the hands-on task to open',
    );
  }

  async function ended(runId: string): Promise<RunState> {
    return eventually(
      async () => {
        const res = await request(api.server).get(`/v1/runs/${runId}`).set(auth('tess')).expect(200);
        return ['COMPLETED', 'FAILED', 'CANCELLED'].includes(res.body.temporalStatus) ? (res.body as RunState) : undefined;
      },
      120_000,
      `${runId} to end`,
    );
  }

  function putAsset(tag: string, body: Record<string, unknown>, ifMatch?: string) {
    const req = request(api.server).put(`/v1/assets/${tag}`).set(auth('tess'));
    return (ifMatch ? req.set('If-Match', ifMatch) : req).send(body);
  }

  it('the asset register: strict input naming the field, ETag and If-Match, 404 for an unknown tag', async () => {
    const asset = { host: diskHost, component: 'disk', model: 'WD Red 4TB', serial: 'WD-OLD-0001', compatibleModels: ['WD Red 4TB'] };
    const created = await putAsset('AT-REG-1', asset, '"0"').expect(200);
    expect(created.headers.etag).toBe('"1"');
    expect(created.body).toMatchObject({ tag: 'AT-REG-1', version: 1, swaps: [] });
    const bad = await putAsset('AT-REG-1', { ...asset, compatibleModels: [], colour: 'red' }).expect(400);
    expect(bad.body.issues).toEqual([
      { path: 'compatibleModels', message: 'name at least one part model that may replace this one' },
      { path: 'colour', message: expect.stringMatching(/unrecognized|unknown/i) },
    ]);
    await putAsset('AT-REG-1', { ...asset, compatibleModels: ['WD Red 4TB', 'WD Red Plus 4TB'] }, '"1"').expect(200);
    const stale = await putAsset('AT-REG-1', asset, '"1"').expect(412);
    expect(stale.body.message).toMatch(/current ETag "2"/);
    const read = await request(api.server).get('/v1/assets/AT-REG-1').set(auth('fran')).expect(200);
    expect(read.headers.etag).toBe('"2"');
    expect(read.body.compatibleModels).toEqual(['WD Red 4TB', 'WD Red Plus 4TB']);
    await request(api.server).get('/v1/assets/AT-NOPE').set(auth('fran')).expect(404);
    await request(api.server).put('/v1/assets/AT-REG-1').set(auth('alex')).send(asset).expect(403); // an approver alone may not write
    const listed = await request(api.server).get(`/v1/assets?host=${diskHost}`).set(auth('fran')).expect(200);
    expect(listed.body.assets.map((a: { tag: string }) => a.tag)).toContain('AT-REG-1');
  });

  it('swaps a faulty disk end to end: backup, power down, hands-on task (incompatible part refused), drivers, tests, data restored and verified, register updated, user told', async () => {
    await putAsset('AT-DISK-7', {
      host: diskHost,
      component: 'disk',
      model: 'WD Red 4TB',
      serial: 'WD-OLD-0001',
      compatibleModels: ['WD Red 4TB', 'Seagate IronWolf 4TB'],
    }).expect(200);
    const runId = await launch(swapInput(diskHost, 'AT-DISK-7'));
    const waiting = await taskOpen(runId);

    const diagnose = waiting.steps.find((s) => s.id === 'diagnose');
    expect(diagnose?.summary).toMatch(/^disk WD-OLD-0001 \(WD Red 4TB\): faulty; kernel-log failed, smart failed, basic-tests failed/);
    expect(waiting.steps.find((s) => s.id === 'backup-user-data')?.state).toBe('succeeded');
    const off = (await lab.fleet.readHost(diskHost)).hardware;
    expect(off).toMatchObject({ power: 'off', drained: true, services: { postgresql: 'stopped', nginx: 'running' } });
    const task = waiting.tasks?.find((t) => t.id === 'swap-component');
    expect(task).toMatchObject({ assignedRole: 'tier2', instructions: expect.stringContaining('Seagate IronWolf 4TB') });

    await act('gus', runId, 'claim').expect(200);
    const evidence = {
      assetTag: 'AT-DISK-7',
      removedSerial: 'WD-OLD-0001',
      installedSerial: 'ST-NEW-4242',
      partModel: 'Seagate IronWolf 4TB',
      connectionsSecured: true,
    };
    const incompatible = await act('gus', runId, 'complete', { evidence: { ...evidence, partModel: 'Cheap SMR 4TB' } }).expect(400);
    expect(incompatible.body.issues).toEqual([
      { path: 'evidence.partModel', message: 'must be one of "WD Red 4TB", "Seagate IronWolf 4TB"' },
    ]);
    const wrongDisk = await act('gus', runId, 'complete', { evidence: { ...evidence, removedSerial: 'WD-OTHER-9' } }).expect(400);
    expect(wrongDisk.body.issues).toEqual([{ path: 'evidence.removedSerial', message: 'must be "WD-OLD-0001"' }]);
    await act('gus', runId, 'complete', { evidence }).expect(200);

    const state = await ended(runId);
    await recordHistoryIfAsked(client.workflow.getHandle(runId), 'hardware-swap-disk-restored');
    expect(state.status).toBe('succeeded');
    expect(state.steps.find((s) => s.id === 'test-again')?.summary).toBe('kernel-log passed, smart passed, basic-tests passed');
    for (const id of ['restore-to-staging', 'verify-restored-content', 'swap-into-target', 'update-asset-register']) {
      expect(state.steps.find((s) => s.id === id)?.state).toBe('succeeded');
    }
    // The new disk came in blank; the user's data is back, byte for byte, checked against the backup.
    expect(await readTree(userDataOf(diskHost))).toEqual(userFiles);
    expect(state.outcome).toMatchObject({ filesRestored: 3, installedPart: 'ST-NEW-4242 (Seagate IronWolf 4TB)' });
    const host = await lab.fleet.readHost(diskHost);
    expect(host.hardware).toMatchObject({
      power: 'on',
      drained: false,
      services: { postgresql: 'running', nginx: 'running' },
      components: { disk: { serial: 'ST-NEW-4242', model: 'Seagate IronWolf 4TB', faulty: false } },
    });
    expect(host.packages['firmware-sata']).toBe('1.1');

    const asset = await request(api.server).get('/v1/assets/AT-DISK-7').set(auth('tess')).expect(200);
    expect(asset.body).toMatchObject({
      serial: 'ST-NEW-4242',
      model: 'Seagate IronWolf 4TB',
      swaps: [{ runId, by: 'gus', removed: { serial: 'WD-OLD-0001' }, installed: { serial: 'ST-NEW-4242' } }],
    });
    const told = receiver.received.find((r) => r.body.runId === runId && r.body.kind === 'run-completed');
    expect(told?.body).toMatchObject({ recipients: ['erin@example.test'], text: expect.stringContaining('checksums verified') });
    const report = await request(api.server).get(`/v1/runs/${runId}/report`).set(auth('tess')).expect(200);
    expect(report.text).toContain('- Evidence **installedSerial:** ST-NEW-4242');
  });

  it('a swap whose post-test fails puts drivers, services and power back, leaves the register unchanged and escalates', async () => {
    await putAsset('AT-MEM-3', {
      host: memoryHost,
      component: 'memory',
      model: 'Kingston 16GB DDR4-3200',
      serial: 'DIMM-BAD-0003',
      compatibleModels: ['Kingston 16GB DDR4-3200'],
    }).expect(200);
    const before = await request(api.server).get('/v1/assets/AT-MEM-3').set(auth('tess')).expect(200);
    const runId = await launch(swapInput(memoryHost, 'AT-MEM-3'));
    await taskOpen(runId);
    await act('gus', runId, 'claim').expect(200);
    await act('gus', runId, 'complete', {
      evidence: {
        assetTag: 'AT-MEM-3',
        removedSerial: 'DIMM-BAD-0003',
        installedSerial: 'DIMM-DOA-0004',
        partModel: 'Kingston 16GB DDR4-3200',
        connectionsSecured: true,
      },
    }).expect(200);

    const state = await ended(runId);
    await recordHistoryIfAsked(client.workflow.getHandle(runId), 'hardware-swap-failed-tests');
    expect(state.status).toBe('failed');
    expect(state.error).toMatch(/fails its tests after the swap \(escalated to hardware-3rd-line\)/);
    expect(state.compensations.map((c) => [c.stepId, c.state])).toEqual([
      ['power-down', 'done'],
      ['update-drivers', 'done'],
    ]);
    for (const id of ['restore-to-staging', 'update-asset-register', 'notify-user']) {
      expect(state.steps.find((s) => s.id === id)?.state).toBe('skipped');
    }
    // The known state: drivers as before, services running, powered on; the data untouched.
    const host = await lab.fleet.readHost(memoryHost);
    expect(host.packages).toEqual(DRIVERS_BEFORE);
    expect(host.hardware).toMatchObject({ power: 'on', drained: false, services: { postgresql: 'running' } });
    expect(await readTree(userDataOf(memoryHost))).toEqual(userFiles);
    const after = await request(api.server).get('/v1/assets/AT-MEM-3').set(auth('tess')).expect(200);
    expect(after.body).toEqual(before.body);
    expect(after.headers.etag).toBe(before.headers.etag);
    const escalation = receiver.received.find((r) => r.body.runId === runId && r.body.kind === 'escalation');
    expect(escalation?.body).toMatchObject({ recipients: ['hardware-3rd-line'], text: expect.stringContaining('DIMM-DOA-0004') });
    expect(receiver.received.some((r) => r.body.runId === runId && r.body.kind === 'run-completed')).toBe(false);
  });

  it('a swap cancelled while the part is out powers the host back on and starts its services; the register is untouched', async () => {
    const nic = { host: diskHost, component: 'network-card', model: 'Intel I210', serial: 'NIC-0009', compatibleModels: ['Intel I210'] };
    const before = await putAsset('AT-NIC-9', nic).expect(200);
    const runId = await launch(swapInput(diskHost, 'AT-NIC-9'));
    const waiting = await taskOpen(runId);
    expect(waiting.steps.find((s) => s.id === 'diagnose')?.summary).toMatch(/no fault found by the checks; swapped as reported/);
    expect((await lab.fleet.readHost(diskHost)).hardware).toMatchObject({ power: 'off', services: { postgresql: 'stopped' } });

    await request(api.server).post(`/v1/runs/${runId}/cancel`).set(auth('tess')).send({ reason: 'no spare on site' }).expect(202);
    const state = await ended(runId);
    expect(state.status).toBe('cancelled');
    expect(state.compensations).toEqual([expect.objectContaining({ stepId: 'power-down', state: 'done' })]);
    expect((await lab.fleet.readHost(diskHost)).hardware).toMatchObject({
      power: 'on',
      drained: false,
      services: { postgresql: 'running' },
    });
    const after = await request(api.server).get('/v1/assets/AT-NIC-9').set(auth('tess')).expect(200);
    expect(after.headers.etag).toBe(before.headers.etag);
    expect(after.body).toMatchObject({ serial: 'NIC-0009', swaps: [] });
  });

  it('refuses at launch a host the run could not power on again (a local host, an ssh host without a BMC), naming input.host; no run starts', async () => {
    const inventory = new InventoryStore(lab.store);
    const noBmc: Host = {
      name: 'ws-no-bmc',
      address: '127.0.0.1',
      osFamily: 'debian',
      tags: [],
      driver: 'ssh',
      ssh: { user: 'patcher', privateKeyRef: 'secret:ssh/test-client' },
    };
    const itself: Host = { name: 'ws-itself', address: 'localhost', osFamily: 'debian', tags: [], driver: 'local' };
    await inventory.replace({ hosts: [...(await inventory.read()).hosts, noBmc, itself] });
    const runsBefore = await client.workflow.count('RunbookName = "hardware-swap"');

    for (const [host, message] of [
      [noBmc.name, /^ws-no-bmc has no bmc in the inventory: the run could power it off, never on again/],
      [itself.name, /^ws-itself is the worker's own machine \(local driver\)/],
    ] as const) {
      const res = await request(api.server)
        .post('/v1/runs')
        .set(auth('tess'))
        .send({ runbook: 'hardware-swap', input: { ...swapInput(host, 'AT-ANY'), services: [], drivers: [] } })
        .expect(400);
      expect(res.body.issues).toEqual([{ path: 'input.host', message: expect.stringMatching(message) }]);
    }
    expect(await client.workflow.count('RunbookName = "hardware-swap"')).toEqual(runsBefore);
  });

  it('on an ssh host with a BMC (OpenIPMI’s simulator powering a real sshd): powered off through it while the part is out, on again when the swap is cancelled', async () => {
    const dir = await fs.mkdtemp(path.join(root, 'bmc-host-'));
    const sshdDir = await fs.mkdtemp(path.join(dir, 'sshd-'));
    const sshd = await startSshServer(sshdDir);
    const bmc = await startBmcSimulator(await fs.mkdtemp(path.join(dir, 'bmc-')), {
      sshdConfig: path.join(sshdDir, 'sshd_config'),
      pidFile: path.join(sshdDir, 'sshd.pid'),
    });
    try {
      defineSshClientKey(secrets, sshd, ['hardware-swap']);
      secrets.writeFileSecret('bmc/ws-bmc-1', bmc.password);
      secrets.define({
        name: 'bmc/ws-bmc-1',
        source: { backend: 'file', file: 'bmc/ws-bmc-1' },
        runbooks: ['hardware-swap'],
        roles: ['admin'],
      });
      const host: Host = {
        ...sshHostOn(sshd, 'ws-bmc-1'),
        bmc: { address: '127.0.0.1', port: bmc.port, user: bmc.user, passwordRef: 'secret:bmc/ws-bmc-1' },
      };
      const inventory = new InventoryStore(lab.store);
      await inventory.replace({ hosts: [...(await inventory.read()).hosts, host] });
      await writeTree(userDataOf(host.name), userFiles);
      await putAsset('AT-BMC-1', {
        host: host.name,
        component: 'memory',
        model: 'DDR4',
        serial: 'DIMM-BMC-1',
        compatibleModels: ['DDR4'],
      }).expect(200);

      // No services and no drivers: the test machine runs no systemd (a unit's stop is refused there, see ipmi.spec.ts).
      const runId = await launch({ ...swapInput(host.name, 'AT-BMC-1'), services: [], drivers: [] });
      const waiting = await taskOpen(runId);
      expect(waiting.steps.find((s) => s.id === 'power-down')).toMatchObject({
        state: 'succeeded',
        summary: 'drained, no services to stop, powered off',
      });
      expect(bmc.calls().filter((c) => c.startsWith('set '))).toEqual(['set shutdown 1']);
      await eventually(async () => ((await listening(sshd.port)) ? undefined : true), 30_000, 'the host’s sshd to be down');

      await request(api.server).post(`/v1/runs/${runId}/cancel`).set(auth('tess')).send({ reason: 'no spare on site' }).expect(202);
      const state = await ended(runId);
      expect(state.status).toBe('cancelled');
      expect(state.compensations).toEqual([expect.objectContaining({ stepId: 'power-down', state: 'done' })]);
      expect(bmc.calls().filter((c) => c.startsWith('set '))).toEqual(['set shutdown 1', 'set power 1']);
      expect(await listening(sshd.port)).toBe(true);
    } finally {
      await bmc.stop();
      await sshd.stop();
    }
  });
});
