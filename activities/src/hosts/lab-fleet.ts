import type { Host, Patch } from '@runbooks/contracts';
import type { Store } from '@runbooks/store';
import { LegacyJsonImport } from '../files/legacy-json-import';
import path from 'node:path';
import type { HostHealthResult, PatchHostResult, RestoreHostSnapshotResult, SnapshotHostResult } from '../types';
import type { HostDriver } from './driver';
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
}

/** A lab host's state as kept in `<root>/hosts/<name>.json`. */
export interface LabHostState {
  packages: Record<string, string>;
  healthy: boolean;
  faults: LabFaults;
  snapshots: Record<string, { packages: Record<string, string> }>;
  /**
   * The result of every operation applied to the host, by `<op> <key>`, written with the change
   * itself (one file write): what the host shows after a worker died between applying a change
   * and recording it in the ledger, so the key is not applied twice (OperationLedger's `recover`).
   */
  applied?: Record<string, unknown>;
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
 * Simulated hosts whose state is real, on disk (it simulates the machines' disks): one JSON file
 * per host under `<root>/hosts/`. Every mutating operation is idempotent by its key through the
 * store's ledger (OperationLedger, scope `lab`), shared by every worker; within a worker, writes
 * of one host's file run under that host's lock, so hundreds of concurrent activities on
 * thousands of hosts neither lose an update nor apply one twice.
 * A host that was never seeded has no packages and is healthy.
 */
export class LabFleet implements HostDriver {
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
        const { name, packages, faults } = hosts[next++];
        await this.locks.run(name, () =>
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
