import { ApplicationFailure, patched } from '@temporalio/workflow';
import {
  RejectionType,
  countHosts,
  moveCount,
  noHosts,
  type HostBatchResult,
  type HostCounts,
  type HostRecord,
  type HostState,
  type RolloutState,
} from '@runbooks/contracts';
import type { ChangedHost, RunbookActivities } from '@runbooks/activities';
import { LOCAL_BOOKKEEPING_PATCH, type FleetBookkeeping } from './activities';

/** A host's state when a batch result arrives: batches report hosts they started, rollbacks hosts that were patched. */
export type MergeFrom = 'patching' | 'patched';

/**
 * Where a rollout keeps what happened on each host, and what it asks of them: the plan's batches,
 * the counts, the changed hosts to undo. Two kinds: the store (every run since per-host records
 * left the state) and the state itself (runs started before, replayed or continued as they began).
 */
export interface HostBook {
  batchCount(wave: number): Promise<number>;
  batchHosts(wave: number, batch: number): Promise<string[]>;
  /** The batch's hosts are now in flight. */
  started(wave: number, hosts: string[]): void;
  /** Takes in a batch's or a rollback's result; returns how many of its hosts failed. */
  merge(result: HostBatchResult, from: MergeFrom): number;
  /** The rollout stopped: every host not started yet is skipped, with the reason. */
  skipPending(reason: string): Promise<void>;
  /** The next hosts the run changed and has not undone (empty: none left). */
  changedHosts(limit: number): Promise<ChangedHost[]>;
  /** Hosts the procedure started on (for the HostsTouched search attribute). */
  touched(): number;
  /** Hosts by state, over the waves `inWave` picks. */
  counts(inWave: (wave: number) => boolean): HostCounts;
  /** Refuses skipping a host this book knows cannot be skipped (`skipped`: the hosts operators skipped already). */
  validateSkip(host: string, skipped: readonly string[]): void;
}

/** Runs since per-host records left the state: the state keeps counts and the hosts in flight; the store keeps each host. */
export class StoredHostBook implements HostBook {
  private rollbacks = 0;

  constructor(
    private readonly runId: string,
    private readonly state: RolloutState,
    private readonly batchSize: number,
    private readonly acts: RunbookActivities,
    private readonly local: FleetBookkeeping,
  ) {
    state.counts ??= noHosts();
  }

  /** The plan is in the store (the planRollout activity wrote it); the state counts its waves' hosts, all pending. */
  planned(): void {
    this.state.counts = { ...noHosts(), pending: this.state.waves.reduce((n, w) => n + w.hosts, 0) };
    for (const wave of this.state.waves) wave.counts = { ...noHosts(), pending: wave.hosts };
    this.state.hosts = [];
  }

  async batchCount(wave: number): Promise<number> {
    return Math.ceil(this.state.waves[wave].hosts / this.batchSize);
  }

  batchHosts(wave: number, batch: number): Promise<string[]> {
    const ref = { runId: this.runId, wave, batch };
    return patched(LOCAL_BOOKKEEPING_PATCH) ? this.local.rolloutBatchHosts(ref) : this.acts.rolloutBatchHosts(ref);
  }

  started(wave: number, hosts: string[]): void {
    this.state.hosts = hosts.map((name): HostRecord => ({ name, wave, state: 'patching' }));
    this.move(wave, 'pending', 'patching', hosts.length);
  }

  merge(result: HostBatchResult, from: MergeFrom): number {
    let failures = 0;
    for (const { wave, counts } of result.counts ?? []) {
      for (const [state, n] of Object.entries(counts) as [HostState, number][]) {
        if (n === 0) continue;
        if (from === 'patching' && isFailure(state)) failures += n;
        this.move(wave, from, state, n);
      }
    }
    this.state.hosts = [];
    return failures;
  }

  async skipPending(reason: string): Promise<void> {
    const counts = this.state.counts as HostCounts;
    if (counts.pending === 0) return;
    await this.acts.skipPendingHosts({ runId: this.runId, reason });
    for (const wave of this.state.waves) if (wave.counts) moveCount(wave.counts, 'pending', 'skipped', wave.counts.pending);
    moveCount(counts, 'pending', 'skipped', counts.pending);
  }

  async changedHosts(limit: number): Promise<ChangedHost[]> {
    // Each rollback batch moves its hosts out of 'patched' (here and in the store); the bound guards against a store that did not.
    const patched = (this.state.counts as HostCounts).patched;
    if (patched === 0 || this.rollbacks++ > Math.ceil(patched / limit) + 1) return [];
    return this.acts.changedHosts({ runId: this.runId, limit });
  }

  touched(): number {
    const c = this.state.counts as HostCounts;
    return Object.values(c).reduce((a, b) => a + b, 0) - c.pending - c.skipped;
  }

  counts(inWave: (wave: number) => boolean): HostCounts {
    const total = noHosts();
    for (const wave of this.state.waves) {
      if (!inWave(wave.index) || !wave.counts) continue;
      for (const [state, n] of Object.entries(wave.counts)) total[state as HostState] += n;
    }
    return total;
  }

  validateSkip(host: string, skipped: readonly string[]): void {
    // Which hosts are pending is in the store: the API checks it before it sends the skip. A host
    // skipped that has already run is harmless (a batch only skips hosts it has not started).
    if (skipped.includes(host)) throw alreadySkipped(host);
  }

  private move(wave: number, from: HostState, to: HostState, n: number): void {
    moveCount(this.state.counts as HostCounts, from, to, n);
    const counts = this.state.waves[wave]?.counts;
    if (counts) moveCount(counts, from, to, n);
  }
}

/** Runs started before per-host records left the state (replayed, or continued as new as they began): every host in the state. */
export class HostBookInState implements HostBook {
  private byName?: Map<string, HostRecord>;
  private rolledBack = false;

  constructor(
    private readonly state: RolloutState,
    private readonly batchSize: number,
  ) {}

  /** Lays the hosts out in waves (wave 0 is the canary), every host's record in the state. */
  plan(waves: { name: string; hosts: string[] }[]): void {
    this.byName = undefined;
    this.state.hosts = waves.flatMap((w, index) => w.hosts.map((name): HostRecord => ({ name, wave: index, state: 'pending' })));
  }

  async batchCount(wave: number): Promise<number> {
    return Math.ceil(this.state.hosts.filter((h) => h.wave === wave).length / this.batchSize);
  }

  async batchHosts(wave: number, batch: number): Promise<string[]> {
    const hosts = this.state.hosts.filter((h) => h.wave === wave).map((h) => h.name);
    return hosts.slice(batch * this.batchSize, (batch + 1) * this.batchSize);
  }

  started(_wave: number, hosts: string[]): void {
    for (const h of hosts) this.host(h).state = 'patching';
  }

  merge(result: HostBatchResult, from: MergeFrom): number {
    let failures = 0;
    for (const r of result.hosts) {
      const host = this.host(r.name);
      if (from === 'patching' && isFailure(r.state)) failures += 1;
      host.state = r.state;
      host.snapshotId = r.snapshotId;
      host.error = r.error;
    }
    return failures;
  }

  async skipPending(reason: string): Promise<void> {
    for (const host of this.state.hosts) {
      if (host.state !== 'pending') continue;
      host.state = 'skipped';
      host.error = `not started: ${reason}`;
    }
  }

  async changedHosts(): Promise<ChangedHost[]> {
    // One pass over the state, as these runs always did.
    if (this.rolledBack) return [];
    this.rolledBack = true;
    return this.state.hosts
      .filter((h) => h.state === 'patched' && h.snapshotId)
      .map((h) => ({ name: h.name, wave: h.wave, snapshotId: h.snapshotId as string }));
  }

  touched(): number {
    return this.state.hosts.filter((h) => h.state !== 'pending' && h.state !== 'skipped').length;
  }

  counts(inWave: (wave: number) => boolean): HostCounts {
    return countHosts(this.state.hosts.filter((h) => inWave(h.wave)));
  }

  validateSkip(host: string, skipped: readonly string[]): void {
    const record = this.state.hosts.find((h) => h.name === host);
    if (!record) throw ApplicationFailure.create({ type: RejectionType.notFound, message: `host ${host} is not part of this rollout` });
    // A skipped host stays pending until its batch passes it by; it is skipped once.
    if (skipped.includes(host)) throw alreadySkipped(host);
    if (record.state !== 'pending') {
      throw ApplicationFailure.create({
        type: RejectionType.conflict,
        message: `host ${host} is already ${record.state}; only pending hosts can be skipped`,
      });
    }
  }

  private host(name: string): HostRecord {
    if (this.byName?.size !== this.state.hosts.length) this.byName = new Map(this.state.hosts.map((h) => [h.name, h]));
    const host = this.byName.get(name);
    if (!host) throw new Error(`host ${name} is not part of this rollout`);
    return host;
  }
}

function alreadySkipped(host: string): ApplicationFailure {
  return ApplicationFailure.create({ type: RejectionType.conflict, message: `host ${host} is already skipped` });
}

function isFailure(state: HostState): boolean {
  return state === 'failed' || state === 'rolled_back' || state === 'rollback_failed';
}
