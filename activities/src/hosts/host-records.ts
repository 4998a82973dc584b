import type { HostRecord } from '@runbooks/contracts';
import type { RunHostOutcome, Store } from '@runbooks/store';
import type { RunbookActivities } from '../types';

export type HostRecordActivities = Pick<
  RunbookActivities,
  'recordRolloutPlan' | 'rolloutBatchHosts' | 'recordHostOutcomes' | 'skipPendingHosts' | 'changedHosts'
>;

/**
 * A fleet run's per-host records in the store, so the run's state carries counts only. Every write
 * is keyed by run and host: a retried activity rewrites the same rows.
 */
export function createHostRecordActivities(store: Store): HostRecordActivities {
  return {
    async recordRolloutPlan({ runId, waves, batchSize }) {
      return { hosts: await store.runHosts.plan(runId, waves, batchSize) };
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
