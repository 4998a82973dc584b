import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort } from './ssh-server';

const IPMI_SIM = '/usr/bin/ipmi_sim';
const SSHD = '/usr/sbin/sshd';

/** The machine a simulated BMC powers: an sshd (startSshServer's), its config and its pid file. */
export interface SimulatedMachine {
  sshdConfig: string;
  pidFile: string;
}

/**
 * A real IPMI v2 BMC on a loopback UDP port: OpenIPMI's ipmi_sim, with one admin user, whose
 * chassis control powers a real machine: the sshd of `machine`. A soft-off stops the sshd (as an
 * orderly shutdown would, a second later) and reports the power off once it is gone; a power-on
 * reports the power on at once and starts the sshd a second later (the boot).
 */
export interface BmcSimulator {
  port: number;
  user: string;
  password: string;
  /** The chassis-control calls ipmi_sim made, in order ("get power", "set shutdown 1", "set power 1"). */
  calls(): string[];
  stop(): Promise<void>;
}

export async function startBmcSimulator(dir: string, machine: SimulatedMachine): Promise<BmcSimulator> {
  if (!existsSync(IPMI_SIM)) {
    throw new Error(
      `${IPMI_SIM} is missing: the BMC power tests need OpenIPMI's simulator (install the Debian packages openipmi and ipmitool)`,
    );
  }
  const port = await freePort();
  const user = 'runbooks';
  const password = 'bmc-test-password';
  const log = path.join(dir, 'chassis-calls.log');
  const powerFile = path.join(dir, 'power');
  writeFileSync(powerFile, '1\n');
  writeFileSync(log, '');
  const control = path.join(dir, 'chassis-control.sh');
  writeFileSync(
    control,
    [
      '#!/bin/sh',
      '# ipmi_sim chassis_control: "get <param>..." prints <param>:<value> lines; "set <param> <value>..." acts.',
      `log='${log}'; power='${powerFile}'; pidfile='${machine.pidFile}'`,
      'running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }',
      'op=$1; shift',
      'echo "$op $*" >> "$log"',
      'case "$op" in',
      '  get) for p in "$@"; do [ "$p" = power ] && echo "power:$(cat "$power")"; done ;;',
      '  set) while [ $# -gt 1 ]; do',
      '    case "$1" in',
      `      power) if [ "$2" = 1 ]; then echo 1 > "$power"; (sleep 1; running || ${SSHD} -f '${machine.sshdConfig}') >/dev/null 2>&1 & ` +
        'else running && kill -9 "$(cat "$pidfile")"; echo 0 > "$power"; fi ;;',
      '      shutdown) (sleep 1; running && kill "$(cat "$pidfile")"; while running; do sleep 0.1; done; echo 0 > "$power") >/dev/null 2>&1 & ;;',
      '    esac; shift 2; done ;;',
      'esac',
      'exit 0',
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  const lanConf = path.join(dir, 'lan.conf');
  writeFileSync(
    lanConf,
    [
      'name "runbooks-test-bmc"',
      'set_working_mc 0x20',
      '  startlan 1',
      `    addr 127.0.0.1 ${port}`,
      '    priv_limit admin',
      '    allowed_auths_callback none md5 straight',
      '    allowed_auths_user none md5 straight',
      '    allowed_auths_operator none md5 straight',
      '    allowed_auths_admin none md5 straight',
      '    guid a123456789abcdefa123456789abcdef',
      '  endlan',
      `  chassis_control "${control}"`,
      `  user 2 true "${user}" "${password}" admin 10 md5 straight`,
      '',
    ].join('\n'),
  );
  const emu = path.join(dir, 'bmc.emu');
  writeFileSync(
    emu,
    ['mc_setbmc 0x20', 'mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr', 'mc_enable 0x20', ''].join('\n'),
  );
  const sim: ChildProcess = spawn(IPMI_SIM, ['-c', lanConf, '-f', emu, '-n', '-s', path.join(dir, 'state')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  sim.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const deadline = Date.now() + 15_000;
  while (!(await answers(port, user, password))) {
    if (sim.exitCode !== null || Date.now() > deadline) {
      sim.kill();
      throw new Error(`ipmi_sim did not answer on udp 127.0.0.1:${port} (exit ${sim.exitCode}): ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  writeFileSync(log, ''); // the readiness probe's calls are not the test's
  return {
    port,
    user,
    password,
    calls: () => readFileSync(log, 'utf8').split('\n').filter(Boolean),
    stop: async () => {
      if (sim.exitCode === null) {
        const exited = new Promise((resolve) => sim.once('exit', resolve));
        sim.kill();
        await exited;
      }
      // An sshd the simulated power-on started runs on its own (a daemon): stop it too.
      try {
        const pid = Number(readFileSync(machine.pidFile, 'utf8').trim());
        if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(machine.sshdConfig)) process.kill(pid);
      } catch {
        // not running
      }
    },
  };
}

function answers(port: number, user: string, password: string): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(
      'ipmitool',
      [
        '-I',
        'lanplus',
        '-C',
        '3',
        '-H',
        '127.0.0.1',
        '-p',
        String(port),
        '-U',
        user,
        '-E',
        '-N',
        '1',
        '-R',
        '1',
        'chassis',
        'power',
        'status',
      ],
      { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', IPMI_PASSWORD: password }, timeout: 5_000 },
      (error) => resolve(!error),
    );
  });
}
