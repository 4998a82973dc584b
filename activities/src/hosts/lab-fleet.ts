import { describeFix, type ComponentKind, type ConflictFix, type DiagnosticCheck, type Host, type Patch } from '@runbooks/contracts';
import type { ApplyConflictFixResult } from '../conflict-types';
import type { Store } from '@runbooks/store';
import { LegacyJsonImport } from '../files/legacy-json-import';
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { HostHealthResult, PatchHostResult, RestoreHostSnapshotResult, SnapshotHostResult } from '../types';
import type { HostDriver } from './driver';
import type { DiagnoseHostResult, HardwareDriver, InstalledPart, PowerDownHostResult, PowerOnHostResult } from './hardware';
import { HostFailureType, nonRetryable } from './failures';
import { HostLocks, OperationLedger, readIfExists, snapshotIdFor, writeJsonAtomic, type LedgerEntry, type LedgerOp } from './ledger';

/** Faults a lab host can be given to rehearse a rollout's failure paths. */
export interface LabFaults {
  /** The next patches fail (non-retryable PatchFailed) and change nothing. */
  failPatch?: boolean;
  /** Patches apply, but the host is unhealthy afterwards (until restored). */
  failHealth?: boolean;
  /** Patches never finish: they wait until the activity is cancelled (or its heartbeat times out). */
  hang?: boolean;
  /** Patches take this long (a real host's package manager does), still heartbeating and cancellable. */
  slowPatchMs?: number;
  /** The next part a technician installs is faulty too (a dead-on-arrival spare): that swap fails its tests. */
  faultyReplacement?: boolean;
}

/** One component of a lab host: the part in it and whether it is failing. */
export interface LabComponent {
  serial: string;
  model: string;
  faulty: boolean;
}

/** A lab host's hardware: power, the services that run on it, its parts, and the folder standing for its data disk. */
export interface LabHardware {
  power: 'on' | 'off';
  /** Taken out of service (no new work) before a shutdown. */
  drained: boolean;
  services: Record<string, 'running' | 'stopped'>;
  components: Partial<Record<ComponentKind, LabComponent>>;
  /** The user's data on the host's disk (a folder the worker reaches): a new disk comes in blank, so it is emptied when the disk is swapped. */
  dataDir?: string;
  /** What the last shutdown stopped, started again at power-on. */
  stoppedByShutdown?: string[];
}

/** A lab host's state as kept in `<root>/hosts/<name>.json`. */
export interface LabHostState {
  packages: Record<string, string>;
  healthy: boolean;
  faults: LabFaults;
  snapshots: Record<string, { packages: Record<string, string> }>;
  /** Packages held at their version (`apt-mark hold`) by a software-conflict fix. */
  held?: string[];
  /**
   * The result of every operation applied to the host, by `<op> <key>`, written with the change
   * itself (one file write): what the host shows after a worker died between applying a change
   * and recording it in the ledger, so the key is not applied twice (OperationLedger's `recover`).
   */
  applied?: Record<string, unknown>;
  /** Absent on hosts seeded without hardware: they are on, with no parts the lab knows of. */
  hardware?: LabHardware;
}

export interface LabHostSeed {
  name: string;
  packages: Record<string, string>;
  faults?: LabFaults;
  hardware?: Pick<LabHardware, 'components' | 'dataDir'> & { services?: string[] };
}

/** What a failing part writes into a lab host's kernel log, as a real one would. */
const LAB_KERNEL_ERRORS: Record<ComponentKind, (serial: string) => string[]> = {
  disk: (serial) => [
    `ata1.00: failed command: READ FPDMA QUEUED (disk ${serial})`,
    'blk_update_request: I/O error, dev sda, sector 1953525160 op 0x0:(READ) flags 0x0 phys_seg 1 prio class 0',
  ],
  memory: () => ['EDAC MC0: 1 UE memory read error on CPU_SrcID#0_Ha#0_Chan#0_DIMM#0'],
  'network-card': () => ['e1000e 0000:00:19.0 eth0: NIC Link is Down'],
  'power-supply': () => ['ACPI: power supply PSU1 reports over-current'],
  fan: () => ['thermal thermal_zone0: critical temperature reached (fan FAN2 stopped)'],
};

const HOST_NAME = /^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$/;
/** Host files written at once by `seed`. */
const SEED_CONCURRENCY = 64;

/**
 * Simulated hosts whose state is real, on disk (it simulates the machines' disks): one JSON file
 * per host under `<root>/hosts/`. Every mutating operation is idempotent by its key through the
 * store's ledger (OperationLedger, scope `lab`), shared by every worker; within a worker, writes
 * of one host's file run under that host's lock, so hundreds of concurrent activities on
 * thousands of hosts neither lose an update nor apply one twice.
 * A host that was never seeded has no packages and is healthy.
 */
export class LabFleet implements HostDriver, HardwareDriver {
  private readonly operations: OperationLedger;
  private readonly locks = new HostLocks();
  /** `<root>/ledger.jsonl` of the layout before the store: imported once, so keys applied then stay applied. */
  private readonly legacyLedger: LegacyJsonImport<LedgerEntry[]>;

  constructor(
    readonly root: string,
    store: Store,
  ) {
    this.operations = new OperationLedger(store, 'lab');
    this.legacyLedger = new LegacyJsonImport(store, path.join(root, 'ledger.jsonl'), {
      kind: 'lab ledger',
      jsonLines: true,
      parse: (lines) => lines as LedgerEntry[],
      notJson: (what, message) => new Error(`${what} is ${message}`),
      write: async (entries, trx) => {
        for (const e of entries) {
          await store.operations.importApplied(
            { scope: 'lab', host: e.host, op: e.op, key: e.key },
            JSON.stringify(e.detail ?? null),
            e.at,
            trx,
          );
        }
      },
    });
  }

  /** Creates (or overwrites) lab hosts: healthy, without snapshots, with the given packages and faults. */
  async seed(hosts: readonly LabHostSeed[]): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < hosts.length) {
        const { name, packages, faults, hardware } = hosts[next++];
        const state: LabHostState = { packages: { ...packages }, healthy: true, faults: { ...faults }, snapshots: {} };
        if (hardware) {
          state.hardware = {
            power: 'on',
            drained: false,
            services: Object.fromEntries((hardware.services ?? []).map((s) => [s, 'running' as const])),
            components: structuredClone(hardware.components),
            ...(hardware.dataDir ? { dataDir: hardware.dataDir } : {}),
          };
        }
        await this.locks.run(name, () => this.writeHost(name, state));
      }
    };
    await Promise.all(Array.from({ length: Math.min(SEED_CONCURRENCY, hosts.length) }, worker));
  }

  async readHost(name: string): Promise<LabHostState> {
    const text = await readIfExists(this.hostFile(name));
    if (!text) return { packages: {}, healthy: true, faults: {}, snapshots: {} };
    return JSON.parse(text) as LabHostState;
  }

  /** Replaces the host's faults (an empty object clears them). */
  async setFaults(name: string, faults: LabFaults): Promise<void> {
    await this.locks.run(name, async () => {
      const state = await this.readHost(name);
      await this.writeHost(name, { ...state, faults: { ...faults } });
    });
  }

  /** Every operation applied, in order (tests and reports read it). */
  async ledger(): Promise<LedgerEntry[]> {
    await this.legacyLedger.run();
    return this.operations.entries();
  }

  /** Records all the host's package versions (lab hosts are small); `packages` is not needed here. */
  snapshot(host: Host, key: string): Promise<SnapshotHostResult> {
    return this.once(host.name, 'snapshot', key, async (state) => {
      const snapshotId = snapshotIdFor(host.name, key);
      state.snapshots[snapshotId] = { packages: { ...state.packages } };
      return { snapshotId };
    });
  }

  patch(host: Host, patches: readonly Patch[], key: string, signal?: AbortSignal): Promise<PatchHostResult> {
    return this.once(host.name, 'patch', key, async (state) => {
      if (state.faults.hang) await untilCancelled(signal);
      if (state.faults.slowPatchMs) await Promise.race([delay(state.faults.slowPatchMs), untilCancelled(signal)]);
      if (state.faults.failPatch) {
        throw nonRetryable(
          `lab host ${host.name}: applying ${patches.map((p) => `${p.package}=${p.version}`).join(', ')} failed ` +
            `(the lab host has the failPatch fault); nothing was changed`,
          HostFailureType.patchFailed,
          { host: host.name },
        );
      }
      const changed: PatchHostResult['changed'] = [];
      for (const { package: name, version } of patches) {
        const from = state.packages[name] ?? null;
        if (from === version) continue;
        changed.push({ package: name, from, to: version });
        state.packages[name] = version;
      }
      state.healthy = !state.faults.failHealth;
      return { changed };
    });
  }

  async health(host: Host): Promise<HostHealthResult> {
    const state = await this.readHost(host.name);
    return state.healthy
      ? { healthy: true, detail: `lab host ${host.name}: healthy` }
      : { healthy: false, detail: `lab host ${host.name}: unhealthy since its last patch (failHealth fault)` };
  }

  /** Makes the host's packages exactly those of the snapshot again (packages added since are removed) and healthy. */
  restore(host: Host, snapshotId: string, key: string): Promise<RestoreHostSnapshotResult> {
    return this.once(host.name, 'restore', key, async (state) => {
      const snapshot = state.snapshots[snapshotId];
      if (!snapshot) {
        throw nonRetryable(`lab host ${host.name} has no snapshot ${snapshotId}`, HostFailureType.snapshotNotFound, { host: host.name });
      }
      const names = new Set([...Object.keys(state.packages), ...Object.keys(snapshot.packages)]);
      const restored = [...names].filter((name) => state.packages[name] !== snapshot.packages[name]).sort();
      state.packages = { ...snapshot.packages };
      state.healthy = true;
      return { restored };
    });
  }

  /**
   * A software-conflict fix (update, roll back and hold, remove), once per key, like `patch`:
   * the failPatch fault fails it with nothing changed, the failHealth fault leaves the host unhealthy.
   */
  applyConflictFix(host: Host, fix: ConflictFix, key: string): Promise<ApplyConflictFixResult> {
    return this.once(host.name, 'patch', key, async (state) => {
      if (state.faults.failPatch) {
        throw nonRetryable(
          `lab host ${host.name}: ${describeFix(fix)} failed (the lab host has the failPatch fault); nothing was changed`,
          HostFailureType.patchFailed,
          { host: host.name },
        );
      }
      const from = state.packages[fix.package] ?? null;
      if (fix.action === 'remove') delete state.packages[fix.package];
      else state.packages[fix.package] = fix.version;
      if (fix.action === 'rollback' && fix.hold) state.held = [...new Set([...(state.held ?? []), fix.package])];
      state.healthy = !state.faults.failHealth;
      return { package: fix.package, from, version: state.packages[fix.package] ?? null };
    });
  }

  /** Undoes a software-conflict fix: releases its hold and puts the snapshot's packages back (as `restore`). */
  async undoConflictFix(host: Host, fix: ConflictFix, snapshotId: string, key: string): Promise<RestoreHostSnapshotResult> {
    await this.locks.run(host.name, async () => {
      const state = await this.readHost(host.name);
      if (state.held?.includes(fix.package))
        await this.writeHost(host.name, { ...state, held: state.held.filter((p) => p !== fix.package) });
    });
    return this.restore(host, snapshotId, key);
  }

  /**
   * The lab's diagnosis: a failing part leaves its errors in the kernel log, a failing disk fails
   * SMART, and the basic tests fail while any part fails (or the host is off).
   */
  async diagnose(host: Host): Promise<DiagnoseHostResult> {
    const hardware = (await this.readHost(host.name)).hardware;
    const components = Object.entries(hardware?.components ?? {}) as [ComponentKind, LabComponent][];
    const faulty = components.filter(([, part]) => part.faulty);
    const checks: DiagnosticCheck[] = [];
    const kernelErrors = faulty.flatMap(([kind, part]) => LAB_KERNEL_ERRORS[kind](part.serial));
    checks.push(
      kernelErrors.length > 0
        ? {
            name: 'kernel-log',
            status: 'failed',
            detail: `lab dmesg: ${kernelErrors.length} hardware error line(s)`,
            evidence: kernelErrors,
          }
        : { name: 'kernel-log', status: 'passed', detail: 'lab dmesg: no hardware errors' },
    );
    const disk = hardware?.components.disk;
    checks.push(
      !disk
        ? { name: 'smart', status: 'not-available', detail: 'the lab host has no disk the lab knows of' }
        : disk.faulty
          ? {
              name: 'smart',
              status: 'failed',
              detail: `SMART overall-health self-assessment test result: FAILED (disk ${disk.serial})`,
              evidence: ['  5 Reallocated_Sector_Ct   0x0033   001   001   005    Pre-fail  Always   FAILING_NOW 2048'],
            }
          : { name: 'smart', status: 'passed', detail: `SMART overall-health self-assessment test result: PASSED (disk ${disk.serial})` },
    );
    const off = hardware?.power === 'off';
    checks.push(
      off
        ? { name: 'basic-tests', status: 'failed', detail: 'the host is powered off' }
        : faulty.length > 0
          ? { name: 'basic-tests', status: 'failed', detail: `read and load tests fail on: ${faulty.map(([kind]) => kind).join(', ')}` }
          : { name: 'basic-tests', status: 'passed', detail: `read and load tests pass on ${components.length} component(s)` },
    );
    return {
      host: host.name,
      healthy: checks.every((c) => c.status !== 'failed'),
      checks,
      faultyComponents: faulty.map(([kind]) => kind),
    };
  }

  /** Drains the host, stops the services, powers it off. */
  powerDown(host: Host, services: readonly string[], key: string): Promise<PowerDownHostResult> {
    return this.once(host.name, 'power-down', key, async (state) => {
      const hardware = (state.hardware ??= { power: 'on', drained: false, services: {}, components: {} });
      hardware.drained = true;
      const stopped = services.filter((s) => hardware.services[s] !== 'stopped');
      for (const s of services) hardware.services[s] = 'stopped';
      hardware.stoppedByShutdown = [...new Set([...(hardware.stoppedByShutdown ?? []), ...stopped])];
      hardware.power = 'off';
      return { drained: true, stoppedServices: stopped, poweredOff: true };
    });
  }

  /**
   * Powers the host on with the part the technician installed (the lab has no hands: it takes their
   * evidence for what is in the machine), starts the services the shutdown stopped, undrains it.
   */
  powerOn(host: Host, key: string, installed?: InstalledPart): Promise<PowerOnHostResult> {
    return this.once(host.name, 'power-on', key, async (state) => {
      const hardware = (state.hardware ??= { power: 'on', drained: false, services: {}, components: {} });
      const wasOn = hardware.power === 'on';
      if (installed) {
        hardware.components[installed.component] = {
          serial: installed.serial,
          model: installed.model,
          faulty: state.faults.faultyReplacement === true,
        };
        state.faults = { ...state.faults, faultyReplacement: undefined };
        if (installed.component === 'disk' && hardware.dataDir) await emptyFolder(hardware.dataDir);
      }
      const started = hardware.stoppedByShutdown ?? [];
      for (const s of started) hardware.services[s] = 'running';
      hardware.stoppedByShutdown = [];
      hardware.power = 'on';
      hardware.drained = false;
      const part = installed ? `; ${installed.component} ${installed.serial} (${installed.model}) in` : '';
      return {
        poweredOn: true,
        startedServices: started,
        detail: `${wasOn ? 'already on' : 'powered on'}${started.length ? `, started ${started.join(', ')}` : ''}${part}`,
      };
    });
  }

  /**
   * Applies `change` to the host's state once per key: `change` edits the state it is given and
   * returns the result, and the state is written with that result recorded in it, in one write.
   */
  private async once<T>(name: string, op: LedgerOp, key: string, change: (state: LabHostState) => Promise<T>): Promise<T> {
    const marker = `${op} ${key}`;
    await this.legacyLedger.run();
    return this.operations.once(
      name,
      op,
      key,
      () =>
        this.locks.run(name, async () => {
          const state = await this.readHost(name);
          const result = await change(state);
          await this.writeHost(name, { ...state, applied: { ...state.applied, [marker]: result } });
          return result;
        }),
      async () => (await this.readHost(name)).applied?.[marker] as T | undefined,
    );
  }

  private hostFile(name: string): string {
    if (!HOST_NAME.test(name)) throw nonRetryable(`"${name}" is not a host name`, HostFailureType.invalidInput);
    return path.join(this.root, 'hosts', `${name}.json`);
  }

  private writeHost(name: string, state: LabHostState): Promise<void> {
    return writeJsonAtomic(this.hostFile(name), state);
  }
}

/** A new disk is blank: the folder standing for it keeps existing (it is the mount point) but loses its content. */
async function emptyFolder(dir: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  await Promise.all(names.map((name) => rm(path.join(dir, name), { recursive: true, force: true })));
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits for the activity's cancellation and rejects with its reason; without a signal, waits forever. */
function untilCancelled(signal: AbortSignal | undefined): Promise<never> {
  return new Promise((_, reject) => {
    if (!signal) return;
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}
