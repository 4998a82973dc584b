import type { Host } from '@runbooks/contracts';
import { ApplicationFailure } from '@temporalio/common';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Store } from '@runbooks/store';
import { storeIn } from '../test-support/store';
import { HostFailureType } from './failures';
import { CommandHardware, kernelLogCheck, smartCheck } from './hardware';
import { LabFleet } from './lab-fleet';
import { LocalTransport } from './local';
import { SshTransport } from './ssh';
import { TestSecrets } from '../test-support/secrets';
import { defineSshClientKey, sshHostOn, startSshServer, type SshServer } from '../test-support/ssh-server';

const local: Host = { name: 'worker-itself', address: 'localhost', osFamily: 'debian', tags: [], driver: 'local' };
const lab = (name: string): Host => ({ name, address: name, osFamily: 'lab', tags: [], driver: 'lab' });

/** Whether this machine lets the worker's user run `command` (the real driver's sources differ per machine). */
function runs(command: string, args: string[]): boolean {
  try {
    execFileSync(command, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('diagnosis of a real host from its own tools (local driver)', () => {
  const hardware = new CommandHardware(new LocalTransport());

  it('reads the kernel log, says SMART is not available where smartctl is missing, and passes the basic tests', async () => {
    const result = await hardware.diagnose(local);
    const byName = Object.fromEntries(result.checks.map((c) => [c.name, c]));
    if (runs('dmesg', [])) expect(byName['kernel-log'].detail).toMatch(/^dmesg: /);
    else expect(byName['kernel-log'].status).toBe('not-available');
    if (!runs('sh', ['-c', 'command -v smartctl'])) {
      expect(byName.smart).toEqual({ name: 'smart', status: 'not-available', detail: 'smartctl is not installed' });
    }
    expect(byName['basic-tests']).toMatchObject({ status: 'passed', detail: expect.stringContaining('1 MiB written and read back') });
    expect(result.healthy).toBe(byName['kernel-log'].status !== 'failed' && byName.smart.status !== 'failed');
  });

  it('refuses to power a real host without a BMC down: it could not bring it back up', async () => {
    const error = await hardware.powerDown(local, [], 'run-0/power-down').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApplicationFailure);
    expect(error).toMatchObject({
      type: HostFailureType.misconfigured,
      nonRetryable: true,
      message: expect.stringMatching(/needs the host's BMC/),
    });
  });

  it('tells hardware errors in the kernel log from other errors, and reads smartctl verdicts', () => {
    const log = [
      'source: dmesg',
      'usb 1-1: device descriptor read/64, error -71',
      'blk_update_request: I/O error, dev sda, sector 42',
    ].join('\n');
    expect(kernelLogCheck(0, log)).toMatchObject({
      status: 'failed',
      detail: 'dmesg: 1 hardware error line(s) among 2 error line(s)',
      evidence: ['blk_update_request: I/O error, dev sda, sector 42'],
    });
    expect(kernelLogCheck(0, 'source: journalctl -k\n-- No entries --\n')).toMatchObject({ status: 'passed' });
    expect(kernelLogCheck(3, 'unavailable: dmesg: read kernel buffer failed: Operation not permitted')).toEqual({
      name: 'kernel-log',
      status: 'not-available',
      detail: 'dmesg: read kernel buffer failed: Operation not permitted',
    });
    expect(smartCheck(0, 'device: /dev/sda\nSMART overall-health self-assessment test result: FAILED!\n')).toMatchObject({
      status: 'failed',
    });
    expect(smartCheck(0, 'device: /dev/sda\nSMART overall-health self-assessment test result: PASSED\n')).toMatchObject({
      status: 'passed',
      detail: 'SMART health PASSED on 1 disk(s)',
    });
    expect(smartCheck(0, 'device: /dev/sda\nSmartctl open device: /dev/sda failed: Permission denied\n')).toMatchObject({
      status: 'not-available',
    });
  });
});

describe('diagnosis of a real host over SSH (an OpenSSH server on loopback)', () => {
  let root: string;
  let server: SshServer;
  let store: Store;
  const keys = new TestSecrets();

  beforeAll(async () => {
    root = mkdtempSync(path.join(os.tmpdir(), 'ssh-hardware-'));
    server = await startSshServer(mkdtempSync(path.join(root, 'sshd-')));
    defineSshClientKey(keys, server);
    store = storeIn(root);
  });
  afterAll(async () => {
    await server?.stop();
    await store?.close();
    keys.remove();
    rmSync(root, { recursive: true, force: true });
  });

  it('runs the same three checks on the host through the ssh transport', async () => {
    const hardware = new CommandHardware(new SshTransport({ stateDir: path.join(root, 'state'), store, secrets: keys.resolver() }));
    const result = await hardware.diagnose(sshHostOn(server, 'ws-ssh'));
    expect(result.checks.map((c) => c.name)).toEqual(['kernel-log', 'smart', 'basic-tests']);
    expect(result.checks[2]).toMatchObject({ status: 'passed', detail: expect.stringContaining('1 MiB written and read back') });
    if (!runs('sh', ['-c', 'command -v smartctl'])) expect(result.checks[1]).toMatchObject({ status: 'not-available' });
  });
});

describe('LabFleet hardware simulation', () => {
  let root: string;
  let store: Store;
  let fleet: LabFleet;
  let dataDir: string;

  beforeEach(async () => {
    root = mkdtempSync(path.join(os.tmpdir(), 'lab-hardware-'));
    store = storeIn(root);
    fleet = new LabFleet(path.join(root, 'lab'), store);
    dataDir = path.join(root, 'disk', 'home');
    await mkdir(dataDir, { recursive: true });
    await writeFile(path.join(dataDir, 'thesis.md'), 'data\n');
    await fleet.seed([
      {
        name: 'ws-1',
        packages: {},
        hardware: {
          services: ['postgresql'],
          dataDir,
          components: { disk: { serial: 'OLD-1', model: 'WD Red 4TB', faulty: true } },
        },
      },
    ]);
  });
  afterEach(async () => {
    await store.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('a faulty disk shows in the kernel log, SMART and the basic tests; a good one installed passes them, and comes in blank', async () => {
    const before = await fleet.diagnose(lab('ws-1'));
    expect(before).toMatchObject({ healthy: false, faultyComponents: ['disk'] });
    expect(before.checks.map((c) => c.status)).toEqual(['failed', 'failed', 'failed']);
    expect(before.checks[0].evidence?.join('\n')).toMatch(/I\/O error, dev sda/);

    await fleet.powerDown(lab('ws-1'), ['postgresql'], 'run-1/power-down');
    expect((await fleet.readHost('ws-1')).hardware).toMatchObject({ power: 'off', drained: true, services: { postgresql: 'stopped' } });
    expect((await fleet.diagnose(lab('ws-1'))).checks[2]).toMatchObject({ status: 'failed', detail: 'the host is powered off' });

    const on = await fleet.powerOn(lab('ws-1'), 'run-1/power-on', { component: 'disk', serial: 'NEW-2', model: 'WD Red 4TB' });
    expect(on).toEqual({
      poweredOn: true,
      startedServices: ['postgresql'],
      detail: 'powered on, started postgresql; disk NEW-2 (WD Red 4TB) in',
    });
    expect(await readdir(dataDir)).toEqual([]);
    const after = await fleet.diagnose(lab('ws-1'));
    expect(after).toMatchObject({ healthy: true, faultyComponents: [] });
  });

  it('power actions apply once per key, and powering on again (the undo) changes nothing more', async () => {
    const first = await fleet.powerDown(lab('ws-1'), ['postgresql'], 'run-2/power-down');
    const again = await fleet.powerDown(lab('ws-1'), ['postgresql'], 'run-2/power-down');
    expect(again).toEqual(first);
    await fleet.powerOn(lab('ws-1'), 'run-2/undo-power-down');
    const undone = await fleet.powerOn(lab('ws-1'), 'run-2/undo-power-down-again');
    expect(undone).toEqual({ poweredOn: true, startedServices: [], detail: 'already on' });
    expect(await readdir(dataDir)).toEqual(['thesis.md']); // no part was swapped: the disk keeps its data
    expect((await fleet.ledger()).map((e) => e.op)).toEqual(['power-down', 'power-on', 'power-on']);
  });

  it('faultyReplacement makes the next part installed faulty too, once', async () => {
    await fleet.setFaults('ws-1', { faultyReplacement: true });
    await fleet.powerOn(lab('ws-1'), 'run-3/power-on', { component: 'disk', serial: 'DOA-3', model: 'WD Red 4TB' });
    expect(await fleet.diagnose(lab('ws-1'))).toMatchObject({ healthy: false, faultyComponents: ['disk'] });
    expect((await fleet.readHost('ws-1')).faults.faultyReplacement).toBeUndefined();
  });
});
