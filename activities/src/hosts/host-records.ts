import { planWaves, targetsRefusal, type HostRecord } from '@runbooks/contracts';
import type { RunHostOutcome, Store } from '@runbooks/store';
import type { RunbookActivities } from '../types';
import { resolveTargetNames } from './activities';
import type { InventoryStore } from './inventory-store';

export type HostRecordActivities = Pick<
  RunbookActivities,
  'planRollout' | 'rolloutBatchHosts' | 'recordHostOutcomes' | 'skipPendingHosts' | 'changedHosts'
>;

/**
 * A fleet run's per-host records in the store, so the run's state carries counts only. Every write
 * is keyed by run and host: a retried activity rewrites the same rows.
 */
export function createHostRecordActivities(store: Store, inventory: InventoryStore): HostRecordActivities {
  return {
    /** The run's targets from the inventory, laid out in waves and batches, straight into the store: the run sees counts. */
    async planRollout({ runId, targets, canary, waves, batchSize }) {
      const picked = resolveTargetNames((await inventory.read()).hosts, { targets, canary });
      const counts = { targets: picked.targets.length, canary: picked.canary.length };
      const refusal = targetsRefusal({ ...counts, unknownNames: picked.unknownNames });
      if (refusal) return { ...counts, waves: [], refusal };
      const inCanary = new Set(picked.canary);
      const production = planWaves(
        picked.targets.filter((h) => !inCanary.has(h)),
        waves,
      );
      await store.runHosts.plan(runId, [picked.canary, ...production], batchSize);
      return { ...counts, waves: production.map((w) => w.length) };
    },
    rolloutBatchHosts({ runId, wave, batch }) {
      return store.runHosts.batch(runId, wave, batch);
    },
    async recordHostOutcomes({ runId, batch, hosts }) {
      await store.runHosts.record(
        runId,
        hosts.map((h) => ({ ...outcomeOf(h), wave: h.wave, batch: h.batch ?? batch })),
      );
    },
    async skipPendingHosts({ runId, reason }) {
      return { hosts: await store.runHosts.skipPending(runId, reason) };
    },
    async changedHosts({ runId, limit }) {
      const { hosts } = await store.runHosts.page(runId, { state: 'patched', offset: 0, limit });
      return hosts.flatMap((h) => (h.snapshotId ? [{ name: h.host, wave: h.wave, snapshotId: h.snapshotId }] : []));
    },
  };
}

function outcomeOf(h: HostRecord): RunHostOutcome {
  return {
    host: h.name,
    state: h.state,
    attempts: h.attempts ?? 0,
    snapshotId: h.snapshotId,
    error: h.error,
    changed: h.changed,
    startedAt: h.startedAt,
    endedAt: h.at,
  };
}
