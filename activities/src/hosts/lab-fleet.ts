import type { Host, Patch } from '@runbooks/contracts';
import path from 'node:path';
import type { HostHealthResult, PatchHostResult, RestoreHostSnapshotResult, SnapshotHostResult } from '../types';
import type { HostDriver } from './driver';
import { HostFailureType, nonRetryable } from './failures';
import { OperationLedger, readIfExists, snapshotIdFor, writeJsonAtomic, type LedgerEntry } from './ledger';

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
}

/** A lab host's state as kept in `<root>/hosts/<name>.json`. */
export interface LabHostState {
  packages: Record<string, string>;
  healthy: boolean;
  faults: LabFaults;
  snapshots: Record<string, { packages: Record<string, string> }>;
}

export interface LabHostSeed {
  name: string;
  packages: Record<string, string>;
  faults?: LabFaults;
}

const HOST_NAME = /^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$/;
/** Host files written at once by `seed`. */
const SEED_CONCURRENCY = 64;

/**
 * Simulated hosts whose state is real, on disk: one JSON file per host under `<root>/hosts/`, and
 * `<root>/ledger.jsonl` with one line per operation applied. Every mutating operation is idempotent
 * by its key (see OperationLedger) and runs under the host's lock, so hundreds of concurrent
 * activities on thousands of hosts in one worker neither lose an update nor apply one twice.
 * A host that was never seeded has no packages and is healthy.
 */
export class LabFleet implements HostDriver {
  private readonly operations: OperationLedger;

  constructor(readonly root: string) {
    this.operations = new OperationLedger(path.join(root, 'ledger.jsonl'));
  }

  /** Creates (or overwrites) lab hosts: healthy, without snapshots, with the given packages and faults. */
  async seed(hosts: readonly LabHostSeed[]): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < hosts.length) {
        const { name, packages, faults } = hosts[next++];
        await this.operations.withHostLock(name, () =>
          this.writeHost(name, { packages: { ...packages }, healthy: true, faults: { ...faults }, snapshots: {} }),
        );
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
    await this.operations.withHostLock(name, async () => {
      const state = await this.readHost(name);
      await this.writeHost(name, { ...state, faults: { ...faults } });
    });
  }

  /** Every operation applied, in order (tests and reports read it). */
  ledger(): Promise<LedgerEntry[]> {
    return this.operations.entries();
  }

  /** Records all the host's package versions (lab hosts are small); `packages` is not needed here. */
  snapshot(host: Host, key: string): Promise<SnapshotHostResult> {
    return this.operations.once(host.name, 'snapshot', key, async () => {
      const state = await this.readHost(host.name);
      const snapshotId = snapshotIdFor(host.name, key);
      state.snapshots[snapshotId] = { packages: { ...state.packages } };
      await this.writeHost(host.name, state);
      return { snapshotId };
    });
  }

  patch(host: Host, patches: readonly Patch[], key: string, signal?: AbortSignal): Promise<PatchHostResult> {
    return this.operations.once(host.name, 'patch', key, async () => {
      const state = await this.readHost(host.name);
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
      await this.writeHost(host.name, state);
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
    return this.operations.once(host.name, 'restore', key, async () => {
      const state = await this.readHost(host.name);
      const snapshot = state.snapshots[snapshotId];
      if (!snapshot) {
        throw nonRetryable(`lab host ${host.name} has no snapshot ${snapshotId}`, HostFailureType.snapshotNotFound, { host: host.name });
      }
      const names = new Set([...Object.keys(state.packages), ...Object.keys(snapshot.packages)]);
      const restored = [...names].filter((name) => state.packages[name] !== snapshot.packages[name]).sort();
      state.packages = { ...snapshot.packages };
      state.healthy = true;
      await this.writeHost(host.name, state);
      return { restored };
    });
  }

  private hostFile(name: string): string {
    if (!HOST_NAME.test(name)) throw nonRetryable(`"${name}" is not a host name`, HostFailureType.invalidInput);
    return path.join(this.root, 'hosts', `${name}.json`);
  }

  private writeHost(name: string, state: LabHostState): Promise<void> {
    return writeJsonAtomic(this.hostFile(name), state);
  }
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
