import type {
  HostRecord,
  HostSelector,
  LaunchCredential,
  Patch,
  WaveSize,
  RunState,
  SecretRef,
  SnapshotSummary,
  WindowVerdict,
} from '@runbooks/contracts';
import type { AccountActivities } from './accounts/activities';
import type { ClaimPreApprovalsInput, ClaimPreApprovalsResult } from './approvals/pre-approval-store';
import type { SoftwareConflictActivities } from './conflict-types';
import type { DiagnosisActivities } from './diagnosis/activities';
import type { IncidentActivities } from './incident/activities';
import type { AssetRegisterActivities } from './assets/activities';
import type { BackupPathInput, BackupPathResult } from './backup/activities';
import type { HardwareActivities } from './hosts/hardware';

/**
 * The activities every runbook may call. Workflows import this type only (never the code)
 * and call the activities through `proxyActivities<RunbookActivities>()`.
 * Every input is one object; every side effect carries an idempotency key.
 */
export interface RunbookActivities
  extends
    SoftwareConflictActivities,
    DiagnosisActivities,
    IncidentActivities,
    AccountActivities,
    HardwareActivities,
    AssetRegisterActivities {
  // backup (restic)
  /** Before an approval: only what needs no password (see BackupDriver.probe). */
  probeBackupRepository(input: { repositoryUrl: string }): Promise<{ found: boolean; summary: string }>;
  backupPath(input: BackupPathInput): Promise<BackupPathResult>;
  checkBackupRepository(input: CheckBackupRepositoryInput): Promise<CheckBackupRepositoryResult>;
  restoreToStaging(input: RestoreToStagingInput): Promise<RestoreToStagingResult>;
  verifyRestoredContent(input: VerifyRestoredContentInput): Promise<VerifyRestoredContentResult>;
  // files
  /** Right before the swap, on the swapping worker: the target canonicalized there, checked against the stored policy. */
  checkRestoreTarget(input: { repository: string; target: string }): Promise<{ target: string }>;
  swapIntoTarget(input: SwapIntoTargetInput): Promise<SwapIntoTargetResult>;
  restorePreviousContents(input: RestorePreviousContentsInput): Promise<RestorePreviousContentsResult>;
  discardStaging(input: DiscardStagingInput): Promise<void>;
  // notify
  notify(input: NotifyInput): Promise<NotifyResult>;
  // reports
  writeReport(input: WriteReportInput): Promise<WriteReportResult>;
  // hosts (inventory, snapshots, patching, health)
  resolveTargets(input: ResolveTargetsInput): Promise<ResolveTargetsResult>;
  snapshotHost(input: SnapshotHostInput): Promise<SnapshotHostResult>;
  patchHost(input: PatchHostInput): Promise<PatchHostResult>;
  checkHostHealth(input: HostActionInput): Promise<HostHealthResult>;
  restoreHostSnapshot(input: RestoreHostSnapshotInput): Promise<RestoreHostSnapshotResult>;
  // per-host records of fleet runs, in the store (out of the run's state)
  planRollout(input: PlanRolloutInput): Promise<PlanRolloutResult>;
  rolloutBatchHosts(input: RolloutBatchRef): Promise<string[]>;
  recordHostOutcomes(input: RecordHostOutcomesInput): Promise<void>;
  skipPendingHosts(input: { runId: string; reason: string }): Promise<{ hosts: number }>;
  changedHosts(input: { runId: string; limit: number }): Promise<ChangedHost[]>;
  // maintenance calendar
  checkMaintenanceWindow(input: CheckMaintenanceWindowInput): Promise<WindowVerdict>;
  // approvals given ahead for scheduled runs
  claimPreApprovals(input: ClaimPreApprovalsInput): Promise<ClaimPreApprovalsResult>;
}

export interface BackupRepositoryRef {
  url: string;
  passwordRef: SecretRef;
}

export interface CheckBackupRepositoryInput {
  repository: BackupRepositoryRef;
  /** The run's launch, so the worker checks its launcher may use the repository's password. */
  launch?: LaunchCredential;
}
export interface CheckBackupRepositoryResult {
  /** Every snapshot in the repository, newest last. */
  snapshots: SnapshotSummary[];
  /** One line for the report, e.g. "restic check: no errors; 3 snapshots". */
  summary: string;
}

export interface RestoreToStagingInput {
  repository: BackupRepositoryRef;
  launch?: LaunchCredential;
  snapshotId: string;
  /** The path inside the snapshot to restore. */
  path: string;
  /** Where the content of `path` must end up (created; emptied first if a retry finds it half-filled). */
  stagingDir: string;
  idempotencyKey: string;
}
export interface RestoreToStagingResult {
  stagingDir: string;
  files: number;
  bytes: number;
  /** restic's own --verify of the restored files passed. */
  resticVerified: boolean;
}

export interface VerifyRestoredContentInput {
  repository: BackupRepositoryRef;
  launch?: LaunchCredential;
  snapshotId: string;
  path: string;
  stagingDir: string;
}
export interface FileChecksum {
  /** Relative to the restored root. */
  path: string;
  bytes: number;
  sha256: string;
}
export interface VerifyRestoredContentResult {
  files: number;
  bytes: number;
  /** sha256 over the sorted manifest lines `<sha256>  <path>`; identifies the restored content. */
  manifestSha256: string;
  /** The manifest itself is large; only its first entries travel in history. */
  sample: FileChecksum[];
}

export interface SwapIntoTargetInput {
  target: string;
  stagingDir: string;
  /** Where the previous contents of target are kept. */
  retainedCopyDir: string;
  idempotencyKey: string;
}
export interface SwapIntoTargetResult {
  target: string;
  /** null when the target did not exist before the swap. */
  retainedCopyDir: string | null;
}

export interface RestorePreviousContentsInput {
  target: string;
  retainedCopyDir: string | null;
  idempotencyKey: string;
}
export interface RestorePreviousContentsResult {
  /** What happened, for the report. */
  summary: string;
}

export interface DiscardStagingInput {
  stagingDir: string;
}

export interface NotifyInput {
  runId: string;
  /** Who it is for: affected users, or an escalation contact. */
  recipients: string[];
  kind: 'run-completed' | 'run-failed' | 'escalation' | 'approval-requested';
  subject: string;
  text: string;
  /** Short key/value facts shown with the message. */
  fields?: Record<string, string>;
  /** The approval gate this notice asks someone to decide: chat notices offer Approve / Reject buttons for it. */
  gateId?: string;
  idempotencyKey: string;
}
export interface NotifyResult {
  delivered: boolean;
  channel: string;
  /** HTTP status of the receiver, when the channel is a webhook. */
  status?: number;
}

/** The run's state; the activity renders the Markdown, so a 10,000-host state travels once. */
export interface PlanRolloutInput extends ResolveTargetsInput {
  runId: string;
  /** The production waves' sizes (the canary group is wave 0). */
  waves: WaveSize[];
  batchSize: number;
}
/** Counts only: the hosts' names stay in the store, so no payload grows with the fleet. */
export interface PlanRolloutResult {
  targets: number;
  canary: number;
  /** Hosts per production wave. */
  waves: number[];
  /** Why the run may not go on (nothing was recorded then). */
  refusal?: string;
}
export interface RolloutBatchRef {
  runId: string;
  wave: number;
  batch: number;
}
export interface RecordHostOutcomesInput {
  runId: string;
  /** The batch the hosts ran in (absent for rollbacks, which keep the batch the plan gave). */
  batch?: number;
  hosts: HostRecord[];
}
/** A host the run changed and has not undone: what its undo needs. */
export interface ChangedHost {
  name: string;
  wave: number;
  snapshotId: string;
}

export interface WriteReportInput {
  state: RunState;
}
export interface WriteReportResult {
  /** False when the store already had this run's report (a retried write): its end is counted once. */
  firstWrite?: boolean;
  markdownPath: string;
  jsonPath: string;
}

export interface ResolveTargetsInput {
  targets: HostSelector;
  canary: HostSelector;
}
export interface ResolveTargetsResult {
  /** Names only (a 10,000-host fleet must fit in one payload); activities look hosts up by name. */
  targets: string[];
  /** The canary hosts: the targets the canary selector picks, in inventory order. */
  canary: string[];
  /** Names the selectors gave that are not in the inventory. */
  unknownNames: string[];
}

export interface HostActionInput {
  host: string;
  /** (run, step, host): a retried or replayed call with the same key never acts twice. */
  idempotencyKey: string;
}

/** The packages about to be patched: ssh and local hosts then record only those. */
export interface SnapshotHostInput extends HostActionInput {
  packages?: string[];
}

export interface SnapshotHostResult {
  snapshotId: string;
}

export interface PatchHostInput extends HostActionInput {
  patches: Patch[];
}
export interface PatchHostResult {
  changed: { package: string; from: string | null; to: string }[];
}

export interface HostHealthResult {
  healthy: boolean;
  detail: string;
}

export interface RestoreHostSnapshotInput extends HostActionInput {
  snapshotId: string;
}
export interface RestoreHostSnapshotResult {
  /** Packages put back to their snapshot versions. */
  restored: string[];
}

export interface CheckMaintenanceWindowInput {
  /** The maintenance window that must be open; omitted: only change freezes count. */
  window?: string;
  /** The instant to evaluate (ISO 8601 with offset); omitted: the activity's current time. */
  at?: string;
}
