import { ApplicationFailure } from '@temporalio/common';

/** ApplicationFailure types the hosts activities throw; workflows and reports match on them. */
export const HostFailureType = {
  /** The inventory has no host of that name. */
  notInInventory: 'HostNotInInventory',
  /** The inventory file, or one given to replace it, does not pass the inventory schema. */
  inventoryInvalid: 'InventoryInvalid',
  /** The patch could not be applied, or the packages are not at the patched versions afterwards. */
  patchFailed: 'PatchFailed',
  /** The host presented another key than the one pinned (or first seen) for it. */
  hostKeyMismatch: 'HostKeyMismatch',
  /** The host refused the key: a configuration problem retries do not fix. */
  authenticationFailed: 'HostAuthenticationFailed',
  /** No connection (refused, timed out, reset): may come back, so retryable. */
  unreachable: 'HostUnreachable',
  /** A snapshot, health or restore command exited non-zero. */
  commandFailed: 'HostCommandFailed',
  /** A command ran longer than its limit and was stopped. */
  commandTimedOut: 'HostCommandTimedOut',
  /** No snapshot of that id was taken of that host. */
  snapshotNotFound: 'HostSnapshotNotFound',
  /** The host's entry cannot work with its driver (no ssh settings, no commands for its OS family). */
  misconfigured: 'HostMisconfigured',
  /** The input of a host activity is malformed. */
  invalidInput: 'HostActionInvalid',
} as const;

export function nonRetryable(message: string, type: string, ...details: unknown[]): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, type, ...details);
}

export function retryable(message: string, type: string, ...details: unknown[]): ApplicationFailure {
  return ApplicationFailure.retryable(message, type, ...details);
}
