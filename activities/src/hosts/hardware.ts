import type { ComponentKind, DiagnosticCheck, Host, HostDriverName } from '@runbooks/contracts';
import { withHeartbeat } from '../activity-context';
import type { CommandTransport } from './command-driver';
import { HostFailureType, hostAttempts, nonRetryable } from './failures';
import type { InventoryStore } from './inventory-store';

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

/**
 * Diagnosis of a real host (the worker itself, or one over SSH) from its own tools: the kernel log
 * (dmesg, else journalctl -k), SMART health of each disk (smartctl) and basic tests (the root
 * filesystem writes and reads back, memory and load are readable). A source the host lacks or
 * forbids is "not available", never a pass. Power is another matter: these hosts are switched off
 * and on out of band (IPMI, a person), which this driver does not have, so it refuses rather than
 * shut down a machine it could not bring back.
 */
export class CommandHardware implements HardwareDriver {
  constructor(private readonly transport: CommandTransport) {}

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

  powerDown(host: Host): Promise<PowerDownHostResult> {
    return Promise.reject(this.noPowerControl(host));
  }

  powerOn(host: Host): Promise<PowerOnHostResult> {
    return Promise.reject(this.noPowerControl(host));
  }

  private noPowerControl(host: Host) {
    return nonRetryable(
      `${host.name} (${this.transport.kind} driver): power control needs an out-of-band controller (IPMI, a smart PDU), which this driver does not have; ` +
        'swap it on a lab host, or power it down and up by hand',
      HostFailureType.misconfigured,
      { host: host.name },
    );
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
