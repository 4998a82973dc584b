import type { Host, Patch } from '@runbooks/contracts';
import type { HostHealthResult, PatchHostResult, RestoreHostSnapshotResult, SnapshotHostResult } from '../types';

/**
 * How the activities act on one host. Every mutating call carries the caller's idempotency key:
 * a call whose key was already applied to the host returns the recorded result and changes nothing.
 * `signal` is the activity's cancellation signal: a driver stops its work (and its commands) when it aborts.
 */
export interface HostDriver {
  /** Records the versions of the host's packages (only `packages` when given) so `restore` can put them back. */
  snapshot(host: Host, key: string, signal?: AbortSignal, packages?: readonly string[]): Promise<SnapshotHostResult>;
  /** Brings each package to its patch version; `changed` lists those whose version changed. */
  patch(host: Host, patches: readonly Patch[], key: string, signal?: AbortSignal): Promise<PatchHostResult>;
  /** Whether the host works after a change; a host that cannot be asked throws instead. */
  health(host: Host, signal?: AbortSignal): Promise<HostHealthResult>;
  /** Puts the packages recorded in the snapshot back to their recorded versions. */
  restore(host: Host, snapshotId: string, key: string, signal?: AbortSignal): Promise<RestoreHostSnapshotResult>;
}
