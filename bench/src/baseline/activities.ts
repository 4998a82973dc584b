import type { Host, Patch } from '@runbooks/contracts';
import type { LabFleet } from '@runbooks/activities';

export interface BareHostInput {
  host: string;
  idempotencyKey: string;
}

/**
 * Plain activities over the same LabFleet driver our host activities use (same files, same ledger,
 * same idempotency by key): no attempt envelope, no inventory lookup, no heartbeat, no input checks.
 */
export function createBareActivities(fleet: LabFleet) {
  const lab = (name: string): Host => ({ name, address: `${name}.lab.invalid`, osFamily: 'lab', driver: 'lab', tags: [] });
  return {
    snapshot: ({ host, idempotencyKey }: BareHostInput) => fleet.snapshot(lab(host), idempotencyKey),
    patch: ({ host, idempotencyKey, patches }: BareHostInput & { patches: Patch[] }) => fleet.patch(lab(host), patches, idempotencyKey),
    health: ({ host }: BareHostInput) => fleet.health(lab(host)),
  };
}
export type BareFleetActivities = ReturnType<typeof createBareActivities>;

/** The no-op activity of the step-overhead bench (the engine's worker registers it enveloped). */
export const noopActivities = {
  async noop(input: { step: number }): Promise<{ step: number }> {
    return input;
  },
};
export type NoopActivities = typeof noopActivities;
