import type { HostHealthResult, PatchHostResult, RunbookActivities } from '@runbooks/activities';

/** One host as a procedure step sees it. */
export interface HostCall<P> {
  host: string;
  params: P;
  /** The host activities, bounded by the run's host timeout. */
  acts: RunbookActivities;
  /** The idempotency key of one operation on this host in this run: `<run>/<op>/<host>`. */
  key(op: string): string;
}

/**
 * A per-host procedure the fleet machinery (waves, batches, threshold, steering, rollback,
 * report) runs on every target: prepare, act, verify, and undo when verify fails or the rollout
 * rolls back. Each step is deterministic workflow code that calls host activities. Procedures
 * are registered by name (./index.ts): a batch child receives the name and the parameters.
 */
export interface HostProcedure<P> {
  /** What a host is going through, for messages: "patching", "applying the fix". */
  readonly action: string;
  /** Records what `undo` needs before anything changes; returns it (a snapshot id). */
  prepare(call: HostCall<P>): Promise<string>;
  /** Makes the change; returns what changed, for the host-by-host report. */
  act(call: HostCall<P>): Promise<PatchHostResult['changed']>;
  /** Whether the host works after the change. */
  verify(call: HostCall<P>): Promise<HostHealthResult>;
  /** Puts the host back as `prepare` found it. */
  undo(call: HostCall<P>, snapshotId: string): Promise<void>;
}
