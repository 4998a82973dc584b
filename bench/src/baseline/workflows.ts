/**
 * Bare Temporal code, the fleet-rollout baseline: what the same fan-out costs with nothing of ours
 * on top (no step engine, no state, no attempt envelope, no approval, no search attributes). It
 * plans waves with the contracts' planWaves, so its bundle carries the contracts package.
 */
import { executeChild, proxyActivities, workflowInfo } from '@temporalio/workflow';
import { planWaves, type WaveSize } from '@runbooks/contracts';
import type { BareFleetActivities } from './activities';

export interface BareRolloutInput {
  canary: string[];
  production: string[];
  /** Host counts, "5%" shares of production, or "rest" (as the campaign's waves). */
  waves: WaveSize[];
  batchSize: number;
  concurrency: number;
  patches: { package: string; version: string }[];
  hostTimeoutSeconds: number;
}

export interface BareBatchInput {
  runId: string;
  hosts: string[];
  patches: { package: string; version: string }[];
  concurrency: number;
  hostTimeoutSeconds: number;
}

export interface BareCounts {
  hosts: number;
  patched: number;
  failed: number;
  batches: number;
}

/** The parent: canary, then the production waves, each split into batches run as child workflows one after another. */
export async function bareFleetRollout(input: BareRolloutInput): Promise<BareCounts> {
  const runId = workflowInfo().workflowId;
  const waves = [input.canary, ...planWaves(input.production, input.waves)];
  const total: BareCounts = { hosts: 0, patched: 0, failed: 0, batches: 0 };
  for (const [wave, hosts] of waves.entries()) {
    for (let batch = 0; batch * input.batchSize < hosts.length; batch++) {
      const result = await executeChild(bareFleetBatch, {
        workflowId: `${runId}/wave-${wave}/batch-${batch}`,
        args: [
          {
            runId,
            hosts: hosts.slice(batch * input.batchSize, (batch + 1) * input.batchSize),
            patches: input.patches,
            concurrency: input.concurrency,
            hostTimeoutSeconds: input.hostTimeoutSeconds,
          },
        ],
      });
      total.hosts += result.hosts;
      total.patched += result.patched;
      total.failed += result.failed;
      total.batches += 1;
    }
  }
  return total;
}

/** One batch: per host snapshot, patch, health check, with at most `concurrency` hosts in flight. */
export async function bareFleetBatch(input: BareBatchInput): Promise<BareCounts> {
  const acts = proxyActivities<BareFleetActivities>({
    startToCloseTimeout: input.hostTimeoutSeconds * 1000,
    retry: { initialInterval: '1 second', maximumAttempts: 3 },
  });
  const counts: BareCounts = { hosts: input.hosts.length, patched: 0, failed: 0, batches: 1 };
  let next = 0;
  const lane = async () => {
    while (next < input.hosts.length) {
      const host = input.hosts[next++];
      const key = (op: string) => `${input.runId}/${op}/${host}`;
      try {
        await acts.snapshot({ host, idempotencyKey: key('snapshot') });
        await acts.patch({ host, patches: input.patches, idempotencyKey: key('patch') });
        const health = await acts.health({ host, idempotencyKey: key('health') });
        if (health.healthy) counts.patched += 1;
        else counts.failed += 1;
      } catch {
        counts.failed += 1;
      }
    }
  };
  // A sliding window: `concurrency` lanes, each takes the next host as soon as its last one is done.
  await Promise.all(Array.from({ length: Math.min(input.concurrency, input.hosts.length) }, lane));
  return counts;
}
