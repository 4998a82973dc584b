import { hostSchema, type Host } from '@runbooks/contracts';
import type { Store } from '@runbooks/store';
import { ApplicationFailure } from '@temporalio/common';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startBmcSimulator, type BmcSimulator } from '../test-support/bmc-simulator';
import { TestSecrets } from '../test-support/secrets';
import { defineSshClientKey, listening, sshHostOn, startSshServer, type SshServer } from '../test-support/ssh-server';
import { storeIn } from '../test-support/store';
import { HostFailureType } from './failures';
import { CommandHardware } from './hardware';
import { IpmiPower } from './ipmi';
import { SshTransport } from './ssh';

const BMC_SECRET = 'bmc/ws-bmc';
const WRONG_BMC_SECRET = 'bmc/wrong';

describe('power of an ssh host through its BMC (OpenIPMI’s ipmi_sim powering a real sshd, ipmitool over RMCP+)', () => {
  let root: string;
  let keys: TestSecrets;
  let server: SshServer;
  let bmc: BmcSimulator;
  let store: Store;
  let host: Host;
  let ipmi: IpmiPower;
  let hardware: CommandHardware;

  beforeAll(async () => {
    root = mkdtempSync(path.join(os.tmpdir(), 'bmc-power-'));
    keys = new TestSecrets();
    const sshdDir = mkdtempSync(path.join(root, 'sshd-'));
    server = await startSshServer(sshdDir);
    defineSshClientKey(keys, server, ['hardware-swap']);
    bmc = await startBmcSimulator(mkdtempSync(path.join(root, 'bmc-')), {
      sshdConfig: path.join(sshdDir, 'sshd_config'),
      pidFile: path.join(sshdDir, 'sshd.pid'),
    });
    keys.writeFileSecret(BMC_SECRET, bmc.password);
    keys.define({ name: BMC_SECRET, source: { backend: 'file', file: BMC_SECRET }, runbooks: ['hardware-swap'], roles: ['admin'] });
    keys.writeFileSecret(WRONG_BMC_SECRET, 'not-the-password');
    keys.define({
      name: WRONG_BMC_SECRET,
      source: { backend: 'file', file: WRONG_BMC_SECRET },
      runbooks: ['hardware-swap'],
      roles: ['admin'],
    });
    store = storeIn(root);
    host = {
      ...sshHostOn(server, 'ws-bmc'),
      bmc: { address: '127.0.0.1', port: bmc.port, user: bmc.user, passwordRef: `secret:${BMC_SECRET}` },
    };
    ipmi = new IpmiPower({ secrets: keys.resolver() });
    hardware = new CommandHardware(new SshTransport({ stateDir: path.join(root, 'state'), store, secrets: keys.resolver() }), {
      ipmi,
      store,
      pollMs: 200,
      offTimeoutMs: 30_000,
      bootTimeoutMs: 30_000,
    });
  });
  afterAll(async () => {
    await bmc?.stop();
    await server?.stop();
    await store?.close();
    keys?.remove();
    rmSync(root, { recursive: true, force: true });
  });

  it('shuts the host down through the BMC’s soft-off, once per key, and powers it on again: it answers over ssh', async () => {
    expect(await ipmi.status(host)).toBe('on');
    const down = await hardware.powerDown(host, [], 'swap-1/power-down');
    expect(down).toEqual({ drained: true, stoppedServices: [], poweredOff: true });
    expect(await ipmi.status(host)).toBe('off');
    expect(await listening(server.port)).toBe(false);
    // The same key again (a retry): the ledger's result, no second shutdown; never a hard power-off.
    expect(await hardware.powerDown(host, [], 'swap-1/power-down')).toEqual(down);
    expect(bmc.calls().filter((c) => c.startsWith('set '))).toEqual(['set shutdown 1']);

    const on = await hardware.powerOn(host, 'swap-1/power-on');
    expect(on).toMatchObject({
      poweredOn: true,
      startedServices: [],
      detail: expect.stringMatching(/^powered on through the BMC, answers over ssh after \d+s$/),
    });
    expect(await ipmi.status(host)).toBe('on');
    expect(await listening(server.port)).toBe(true);
    expect((await hardware.diagnose(host)).checks.find((c) => c.name === 'basic-tests')).toMatchObject({ status: 'passed' });
    // Powering on a host that is on (the undo of a power-down that already came back) changes nothing.
    expect(await hardware.powerOn(host, 'swap-1/undo-power-down')).toMatchObject({
      poweredOn: true,
      detail: expect.stringMatching(/^already on/),
    });
    expect(bmc.calls().filter((c) => c.startsWith('set '))).toEqual(['set shutdown 1', 'set power 1']);
  });

  it('stops nothing and leaves the power on when a service cannot be stopped', async () => {
    const error = await hardware.powerDown(host, ['cups.service'], 'swap-2/power-down').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApplicationFailure);
    expect(error).toMatchObject({
      type: HostFailureType.commandFailed,
      nonRetryable: true,
      message: expect.stringMatching(
        /could not stop its services before the power-down \(any it had stopped are started again; the power is untouched\): cannot tell whether cups\.service runs/,
      ),
    });
    expect(await ipmi.status(host)).toBe('on');
    expect(await listening(server.port)).toBe(true);
    expect(bmc.calls().filter((c) => c.startsWith('set '))).toEqual(['set shutdown 1', 'set power 1']);
  });

  it('says the BMC refused or did not answer when the password is wrong, without the password, and touches nothing', async () => {
    const wrong: Host = { ...host, bmc: { ...host.bmc!, passwordRef: `secret:${WRONG_BMC_SECRET}` } };
    const error = await hardware.powerDown(wrong, [], 'swap-3/power-down').catch((e: unknown) => e);
    expect(error).toMatchObject({
      type: HostFailureType.unreachable,
      nonRetryable: false,
      message: expect.stringContaining(`host ws-bmc (BMC 127.0.0.1:${bmc.port}): chassis power status failed`),
    });
    expect((error as Error).message).not.toContain('not-the-password');
    expect(await ipmi.status(host)).toBe('on');
  });

  it('refuses a BMC on a host the inventory does not reach over ssh', () => {
    const parsed = hostSchema.safeParse({ name: 'me', address: 'localhost', osFamily: 'debian', driver: 'local', bmc: host.bmc });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]).toMatchObject({
      path: ['bmc'],
      message: expect.stringMatching(/only an ssh host is powered through a BMC/),
    });
  });
});
