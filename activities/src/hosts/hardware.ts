import type { ComponentKind, DiagnosticCheck, Host, HostDriverName } from '@runbooks/contracts';
import { withHeartbeat } from '../activity-context';
import { ApplicationFailure } from '@temporalio/common';
import type { Store } from '@runbooks/store';
import path from 'node:path';
import { abortableDelay } from '../wait';
import { summary, withSession, type CommandSession, type CommandTransport } from './command-driver';
import { HostFailureType, hostAttempts, nonRetryable, retryable } from './failures';
import type { InventoryStore } from './inventory-store';
import type { ChassisPower, IpmiPower } from './ipmi';
import { OperationLedger } from './ledger';
import { shellQuote } from './os-commands';

export interface DiagnoseHostResult {
  host: string;
  /** Every check that could run passed. */
  healthy: boolean;
  checks: DiagnosticCheck[];
  /** The components the checks name as faulty, when they can tell (the lab can; a kernel log line may not). */
  faultyComponents: ComponentKind[];
}

export interface PowerDownHostInput {
  host: string;
  /** Stopped, in order, after the host is drained and before it is shut down. */
  services: string[];
  idempotencyKey: string;
}
export interface PowerDownHostResult {
  drained: boolean;
  stoppedServices: string[];
  poweredOff: boolean;
}

/** The part a technician put in, as their evidence says. */
export interface InstalledPart {
  component: ComponentKind;
  serial: string;
  model: string;
}

export interface PowerOnHostInput {
  host: string;
  idempotencyKey: string;
  /**
   * The part the hands-on task installed. Real hardware reports its own parts; the lab has no hands,
   * so it takes the technician's word for what is in the machine now.
   */
  installed?: InstalledPart;
}
export interface PowerOnHostResult {
  poweredOn: boolean;
  /** Services started again and the host taken back into service. */
  startedServices: string[];
  detail: string;
}

/** How the hardware-swap activities act on one host's hardware, per driver. */
export interface HardwareDriver {
  /** Reads the kernel log and SMART (where the host has them) and runs basic tests; changes nothing. */
  diagnose(host: Host, signal?: AbortSignal): Promise<DiagnoseHostResult>;
  /** Drains the host, stops its services, shuts it down. Idempotent by key. */
  powerDown(host: Host, services: readonly string[], key: string, signal?: AbortSignal): Promise<PowerDownHostResult>;
  /** Powers the host on, starts what powerDown stopped and takes it back into service. Idempotent by key. */
  powerOn(host: Host, key: string, installed?: InstalledPart, signal?: AbortSignal): Promise<PowerOnHostResult>;
}

export interface HardwareActivities {
  diagnoseHost(input: { host: string }): Promise<DiagnoseHostResult>;
  powerDownHost(input: PowerDownHostInput): Promise<PowerDownHostResult>;
  powerOnHost(input: PowerOnHostInput): Promise<PowerOnHostResult>;
}

/** Hardware actions dispatched on the host's driver, with the host attempts and heartbeats of the other host actions. */
export function createHardwareActivities(inventory: InventoryStore, drivers: Record<HostDriverName, HardwareDriver>): HardwareActivities {
  /** One hardware action on the named host, with the host attempts and heartbeats of every host action. */
  const act = async <T>(name: string, step: string, work: (driver: HardwareDriver, host: Host, signal?: AbortSignal) => Promise<T>) => {
    const host = await inventory.get(name);
    const driver = drivers[host.driver];
    return withHeartbeat(
      () => ({ host: name, step }),
      (signal) => hostAttempts(name, step, signal, (bounded) => work(driver, host, bounded)),
    );
  };
  const keyed = (key: string) => {
    if (typeof key !== 'string' || !key) throw nonRetryable('invalid input: idempotencyKey is required', HostFailureType.invalidInput);
  };
  return {
    diagnoseHost: ({ host }) => act(host, 'diagnose', (driver, target, signal) => driver.diagnose(target, signal)),
    async powerDownHost({ host, services, idempotencyKey }) {
      keyed(idempotencyKey);
      return act(host, 'power-down', (driver, target, signal) => driver.powerDown(target, services, idempotencyKey, signal));
    },
    async powerOnHost({ host, idempotencyKey, installed }) {
      keyed(idempotencyKey);
      return act(host, 'power-on', (driver, target, signal) => driver.powerOn(target, idempotencyKey, installed, signal));
    },
  };
}

/** Kernel log lines that point at hardware (disk, memory, bus, machine check, network link), not at software. */
const HARDWARE_ERROR =
  /I\/O error|Medium Error|critical medium error|ata\d+(\.\d+)?: (failed|error|exception)|EDAC|Machine check|mce: |Hardware Error|PCIe Bus Error|NIC Link is Down|thermal|over-?current/i;
const DIAGNOSE_TIMEOUT_MS = 60_000;
const EVIDENCE_LINES = 5;

/** Out-of-band power for CommandHardware: the BMC client, and the ledger that applies each power key once. */
export interface CommandPowerControl {
  ipmi: IpmiPower;
  /** Keeps the ledger of applied power-down and power-on keys, shared by every worker. */
  store: Store;
  /** How long the BMC may take to report the power off after the soft-off (or on after a power-on). Default 5 min. */
  offTimeoutMs?: number;
  /** How long a host may take, once on, to answer over its transport again. Default 10 min. */
  bootTimeoutMs?: number;
  /** How often the power status and the boot are looked at. Default 2 s. */
  pollMs?: number;
}

/** Where a host keeps the units its last power-down stopped, for the power-on to start again. */
export const STOPPED_SERVICES_FILE = '/var/lib/runbooks/stopped-by-power-down';
const SERVICE_TIMEOUT_MS = 5 * 60_000;
const POWER_DEFAULTS = { offTimeoutMs: 5 * 60_000, bootTimeoutMs: 10 * 60_000, pollMs: 2_000 };

/**
 * Diagnosis of a real host (the worker itself, or one over SSH) from its own tools: the kernel log
 * (dmesg, else journalctl -k), SMART health of each disk (smartctl) and basic tests (the root
 * filesystem writes and reads back, memory and load are readable). A source the host lacks or
 * forbids is "not available", never a pass. Power goes out of band, through the host's BMC
 * (`bmc` in the inventory, IPMI): a host without one (or a driver without power control) is
 * refused rather than shut down when nothing could bring it back.
 */
export class CommandHardware implements HardwareDriver {
  private readonly power?: Required<CommandPowerControl> & { ledger: OperationLedger };

  constructor(
    private readonly transport: CommandTransport,
    power?: CommandPowerControl,
  ) {
    if (power) this.power = { ...POWER_DEFAULTS, ...power, ledger: new OperationLedger(power.store, transport.kind) };
  }

  async diagnose(host: Host, signal?: AbortSignal): Promise<DiagnoseHostResult> {
    const session = await this.transport.open(host, signal);
    try {
      const sudo = this.transport.needsSudo(host) ? 'sudo -n ' : '';
      const run = async (script: string) => session.run(script, DIAGNOSE_TIMEOUT_MS, signal);
      const kernel = await run(
        `if out=$(${sudo}dmesg --level=emerg,alert,crit,err 2>&1); then echo "source: dmesg"; printf '%s\\n' "$out"; ` +
          `elif command -v journalctl >/dev/null && out=$(${sudo}journalctl -k -p err -b --no-pager -q 2>&1); then echo "source: journalctl -k"; printf '%s\\n' "$out"; ` +
          `else echo "unavailable: $out"; exit 3; fi`,
      );
      const smart = await run(
        `command -v smartctl >/dev/null || { echo "unavailable: smartctl is not installed"; exit 3; }; ` +
          `devs=$(${sudo}smartctl --scan 2>&1 | awk '/^\\/dev\\//{print $1}'); [ -n "$devs" ] || { echo "unavailable: smartctl found no disks"; exit 3; }; ` +
          `for d in $devs; do echo "device: $d"; ${sudo}smartctl -H "$d" 2>&1 | grep -Ei 'overall-health|health status|permission|denied' || echo "no health line"; done`,
      );
      const basic = await run(
        `f=$(mktemp) && head -c 1048576 /dev/urandom > "$f" && a=$(sha256sum < "$f") && sync && b=$(sha256sum < "$f") && rm -f "$f" && ` +
          `[ "$a" = "$b" ] && echo "filesystem: 1 MiB written and read back" && grep -m1 MemTotal /proc/meminfo && echo "load: $(cat /proc/loadavg)"`,
      );
      const checks: DiagnosticCheck[] = [
        kernelLogCheck(kernel.code, kernel.stdout),
        smartCheck(smart.code, smart.stdout),
        basicCheck(basic),
      ];
      return { host: host.name, healthy: checks.every((c) => c.status !== 'failed'), checks, faultyComponents: faultyFrom(checks) };
    } finally {
      session.close();
    }
  }

  /**
   * Stops the services that run (in order, through the transport; the units it stopped are kept on
   * the host for the power-on), then has the BMC shut the host down in an orderly way (soft-off)
   * and waits until it reports the power off. A service that cannot be stopped ends it before the
   * power is touched; a host still on after the wait is a failure, never cut off hard. Once per key.
   */
  async powerDown(host: Host, services: readonly string[], key: string, signal?: AbortSignal): Promise<PowerDownHostResult> {
    const power = this.powerFor(host);
    const off = { drained: true, stoppedServices: [] as string[], poweredOff: true };
    return power.ledger.once(
      host.name,
      'power-down',
      key,
      async () => {
        if ((await power.ipmi.status(host, signal)) === 'off') return off;
        const stoppedServices = await this.stopServices(host, services, signal);
        await power.ipmi.softOff(host, signal);
        if (!(await this.untilPower(power, host, 'off', power.offTimeoutMs, signal))) {
          throw nonRetryable(
            `${host.name}: still on ${Math.round(power.offTimeoutMs / 1000)}s after the BMC's soft-off; no hard power-off was forced ` +
              '(the OS may hang in its shutdown: look at its console, power it off by hand)',
            HostFailureType.commandTimedOut,
            { host: host.name },
          );
        }
        return { ...off, stoppedServices };
      },
      // A claimant that died mid-way: a host the BMC reports off is powered down.
      async () => ((await power.ipmi.status(host, signal)) === 'off' ? off : undefined),
    );
  }

  /**
   * Has the BMC power the host on (when off), waits until it answers over its transport again, and
   * starts the units its last power-down stopped. Real hardware reports its own parts: what the
   * technician installed is recorded by the asset register, not here. Once per key.
   */
  async powerOn(host: Host, key: string, _installed?: InstalledPart, signal?: AbortSignal): Promise<PowerOnHostResult> {
    const power = this.powerFor(host);
    return power.ledger.once(host.name, 'power-on', key, async () => {
      const wasOff = (await power.ipmi.status(host, signal)) === 'off';
      if (wasOff) {
        await power.ipmi.on(host, signal);
        if (!(await this.untilPower(power, host, 'on', power.offTimeoutMs, signal))) {
          throw retryable(`${host.name}: the BMC accepted power-on, and still reports the power off`, HostFailureType.commandFailed, {
            host: host.name,
          });
        }
      }
      const started = Date.now();
      const session = await this.whenAnswering(host, power.bootTimeoutMs, power.pollMs, signal);
      try {
        const startedServices = await this.startStoppedServices(session, host, signal);
        return {
          poweredOn: true,
          startedServices,
          detail:
            `${wasOff ? 'powered on through the BMC' : 'already on'}, answers over ${this.transport.kind} after ${Math.round((Date.now() - started) / 1000)}s` +
            (startedServices.length ? `, started ${startedServices.join(', ')}` : ''),
        };
      } finally {
        session.close();
      }
    });
  }

  private powerFor(host: Host): NonNullable<CommandHardware['power']> {
    if (!this.power || !host.bmc) {
      throw nonRetryable(
        `${host.name} (${this.transport.kind} driver): power control needs the host's BMC (bmc: address, user, passwordRef in the inventory)` +
          `${this.power ? '' : ', and this driver has none'}; swap it on a lab host, or power it down and up by hand`,
        HostFailureType.misconfigured,
        { host: host.name },
      );
    }
    return this.power;
  }

  /**
   * Stops each named unit that is active, in order, each recorded on the host before it is stopped
   * (the power-on starts what is recorded; starting one that runs changes nothing). When one cannot
   * be stopped, or its state cannot be told, those this call stopped are started again: the step
   * fails with the host as it was.
   */
  private async stopServices(host: Host, services: readonly string[], signal?: AbortSignal): Promise<string[]> {
    if (services.length === 0) return [];
    const sudo = this.transport.needsSudo(host) ? 'sudo -n ' : '';
    const file = shellQuote(STOPPED_SERVICES_FILE);
    const keep = `${sudo}mkdir -p ${shellQuote(path.dirname(STOPPED_SERVICES_FILE))} && printf '%s\\n' "$unit" | ${sudo}tee -a ${file} >/dev/null`;
    // is-active: 0 active, 3 inactive; anything else (no such unit, no systemd) is no answer.
    const script =
      `stopped=(); undo() { for u in "\${stopped[@]}"; do ${sudo}systemctl start -- "$u"; done; }; ` +
      `for unit in ${services.map(shellQuote).join(' ')}; do ${sudo}systemctl is-active --quiet -- "$unit" 2>/dev/null; state=$?; ` +
      `if [ $state -eq 0 ]; then { ${keep} && ${sudo}systemctl stop -- "$unit"; } || { echo "$unit did not stop" >&2; undo; exit 1; }; stopped+=("$unit"); echo "stopped: $unit"; ` +
      `elif [ $state -ne 3 ]; then echo "cannot tell whether $unit runs: $(${sudo}systemctl is-active -- "$unit" 2>&1 | head -n 1)" >&2; undo; exit 1; fi; done`;
    const result = await withSession(this.transport, host, signal, (session) => session.run(script, SERVICE_TIMEOUT_MS, signal));
    if (result.code !== 0) {
      throw nonRetryable(
        `${host.name}: could not stop its services before the power-down (any it had stopped are started again; the power is untouched): ` +
          summary(result.stderr || result.stdout),
        HostFailureType.commandFailed,
        { host: host.name },
      );
    }
    return result.stdout
      .split('\n')
      .filter((l) => l.startsWith('stopped: '))
      .map((l) => l.slice('stopped: '.length));
  }

  /** Starts the units the host's last power-down stopped (none recorded: nothing to start), then forgets them. */
  private async startStoppedServices(session: CommandSession, host: Host, signal?: AbortSignal): Promise<string[]> {
    const sudo = this.transport.needsSudo(host) ? 'sudo -n ' : '';
    const file = shellQuote(STOPPED_SERVICES_FILE);
    const script =
      `[ -f ${file} ] || exit 0; while read -r unit; do [ -n "$unit" ] || continue; ${sudo}systemctl start -- "$unit" || exit 1; echo "started: $unit"; done < ${file}; ` +
      `${sudo}rm -f ${file}`;
    const result = await session.run(script, SERVICE_TIMEOUT_MS, signal);
    if (result.code !== 0) {
      throw retryable(
        `${host.name}: powered on, and could not start its services again: ${summary(result.stderr || result.stdout)}`,
        HostFailureType.commandFailed,
        {
          host: host.name,
        },
      );
    }
    return result.stdout
      .split('\n')
      .filter((l) => l.startsWith('started: '))
      .map((l) => l.slice('started: '.length));
  }

  /** Waits until the BMC reports the power `state`; false when the time ran out. */
  private async untilPower(
    power: { ipmi: IpmiPower; pollMs: number },
    host: Host,
    state: ChassisPower,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if ((await power.ipmi.status(host, signal)) === state) return true;
      if (Date.now() >= deadline) return false;
      await abortableDelay(power.pollMs, signal);
    }
  }

  /** A session on the host once it answers (it boots after a power-on); a refused key or host key is not waited out. */
  private async whenAnswering(host: Host, timeoutMs: number, pollMs: number, signal?: AbortSignal): Promise<CommandSession> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let last: string;
      try {
        const session = await this.transport.open(host, signal);
        const probe = await session.run('true', 10_000, signal).catch((error: unknown) => {
          session.close();
          throw error;
        });
        if (probe.code === 0) return session;
        session.close();
        last = `a command exited ${probe.code ?? 'killed'}`;
      } catch (error) {
        if (signal?.aborted || (error instanceof ApplicationFailure && error.nonRetryable)) throw error;
        last = (error as Error).message;
      }
      if (Date.now() >= deadline) {
        throw retryable(
          `${host.name}: powered on, and did not answer over ${this.transport.kind} within ${Math.round(timeoutMs / 1000)}s: ${last}`,
          HostFailureType.unreachable,
          { host: host.name },
        );
      }
      await abortableDelay(pollMs, signal);
    }
  }
}

export function kernelLogCheck(code: number | null, stdout: string): DiagnosticCheck {
  const lines = stdout.split('\n');
  if (code !== 0) return { name: 'kernel-log', status: 'not-available', detail: firstLine(stdout, 'the kernel log cannot be read') };
  const source = lines[0].replace(/^source: /, '');
  const errors = lines.slice(1).filter((l) => l.trim() && !/^-- No entries --$/.test(l.trim()));
  const hardware = errors.filter((l) => HARDWARE_ERROR.test(l));
  return hardware.length > 0
    ? {
        name: 'kernel-log',
        status: 'failed',
        detail: `${source}: ${hardware.length} hardware error line(s) among ${errors.length} error line(s)`,
        evidence: hardware.slice(-EVIDENCE_LINES),
      }
    : { name: 'kernel-log', status: 'passed', detail: `${source}: no hardware errors (${errors.length} other error line(s))` };
}

export function smartCheck(code: number | null, stdout: string): DiagnosticCheck {
  if (code !== 0) return { name: 'smart', status: 'not-available', detail: firstLine(stdout, 'SMART cannot be read') };
  // ATA disks say "test result: FAILED!", SCSI ones a health status other than OK; "open device: ... failed" is no verdict.
  const failing = stdout.split('\n').filter((l) => /test result: FAIL|Health Status: (?!OK)/i.test(l));
  const denied = stdout.split('\n').filter((l) => /permission|denied|no health line/i.test(l));
  if (failing.length > 0)
    return { name: 'smart', status: 'failed', detail: 'SMART health check failed', evidence: failing.slice(0, EVIDENCE_LINES) };
  if (denied.length > 0 && !/PASSED|: OK/.test(stdout)) {
    return { name: 'smart', status: 'not-available', detail: `smartctl could not read the disks' health: ${denied[0].trim()}` };
  }
  return {
    name: 'smart',
    status: 'passed',
    detail: `SMART health PASSED on ${stdout.split('\n').filter((l) => l.startsWith('device: ')).length} disk(s)`,
  };
}

function basicCheck(result: { code: number | null; stdout: string; stderr: string }): DiagnosticCheck {
  return result.code === 0
    ? { name: 'basic-tests', status: 'passed', detail: result.stdout.trim().split('\n').join('; ') }
    : { name: 'basic-tests', status: 'failed', detail: firstLine(result.stderr || result.stdout, `basic tests exited ${result.code}`) };
}

/** What a real host's checks say about which component fails: a disk when SMART or disk errors say so, memory on EDAC/MCE. */
function faultyFrom(checks: DiagnosticCheck[]): ComponentKind[] {
  const found = new Set<ComponentKind>();
  for (const check of checks.filter((c) => c.status === 'failed')) {
    if (check.name === 'smart') found.add('disk');
    for (const line of check.evidence ?? []) {
      if (/I\/O error|Medium Error|ata\d/i.test(line)) found.add('disk');
      if (/EDAC|Machine check|mce: /i.test(line)) found.add('memory');
      if (/NIC Link is Down|PCIe Bus Error/i.test(line)) found.add('network-card');
    }
  }
  return [...found];
}

function firstLine(text: string, fallback: string): string {
  const line = text
    .split('\n')
    .map((l) => l.replace(/^unavailable: /, '').trim())
    .find(Boolean);
  return line ?? fallback;
}
