import type { Store } from '@runbooks/store';
import os from 'node:os';
import path from 'node:path';
import { createPreApprovalActivities } from './approvals/activities';
import { PreApprovalStore } from './approvals/pre-approval-store';
import { AssetRegister, createAssetRegisterActivities } from './assets/activities';
import { createBackupActivities } from './backup/activities';
import { ResticDriver, type BackupDriver } from './backup/restic';
import { createFileActivities } from './files/activities';
import { RestoreTargetPolicyStore, serviceDataDirs } from './files/target-policy';
import { createHostActivities, createHostDeps, type HostActivitiesConfig } from './hosts/activities';
import { CommandHardware, createHardwareActivities } from './hosts/hardware';
import { LocalTransport } from './hosts/local';
import { SshTransport } from './hosts/ssh';
import { createMaintenanceActivities } from './maintenance/activities';
import { CalendarStore } from './maintenance/calendar-store';
import { createNotifyActivities } from './notify/activities';
import type { Notifier } from './notify/webhook';
import { createReportActivities } from './reports/activities';
import { SecretResolver, secretsConfigFromEnv, type SecretsConfig } from './secrets/resolve-secret';
import type { RunbookActivities } from './types';

export * from './types';
export * from './assets/activities';
export * from './hosts/hardware';
export * from './approvals';
export * from './backup/restic';
export * from './backup/activities';
export type { RemovedLock } from './backup/repository-locks';
export { killAllProcessGroups } from './child-processes';
export { keepAlive } from './activity-context';
export * from './files/activities';
export * from './files/target-policy';
export type { EntryType, TreeEntry } from './files/tree';
export * from './notify/webhook';
export * from './notify/activities';
export * from './notify/slack-blocks';
export * from './notify/slack-bot';
export * from './notify/create-notifier';
export * from './reports/activities';
export * from './secrets/resolve-secret';
export * from './secrets/vault-kv2';
export * from './codec/payload-codec';
export * from './codec/codec-keys';
export * from './hosts';
export * from './maintenance';

export interface ActivitiesConfig {
  /**
   * The shared state (inventory, calendar, approvals given ahead, host ledger and snapshots, run
   * reports), the same store the API uses.
   */
  store: Store;
  /** Where run reports are also written as files (Markdown and JSON) on the worker. */
  reportsDir: string;
  /** A WebhookNotifier, or a LogNotifier when no webhook is configured. */
  notifier: Notifier;
  /** Defaults to the restic on the worker's PATH. */
  backup?: BackupDriver;
  /** The lab fleet's and the ssh driver's folders, and today's inventory file to import; defaults under `<tmp>/runbooks-hosts/`. */
  hosts?: Omit<HostActivitiesConfig, 'store'>;
  /** Today's maintenance calendar JSON file, imported into the store once if it exists. */
  calendarFile?: string;
  /** Today's file of approvals given ahead, imported into the store once if it exists. */
  preApprovalsFile?: string;
  /** The secret definitions and their backends; default: from the environment (secretsConfigFromEnv). */
  secrets?: SecretsConfig;
  /** The service's data folder (RUNBOOKS_DATA_DIR): never a restore target, nor is the SQLite store's folder. */
  dataDir?: string;
}

/** Folders under `<tmp>/runbooks-hosts/`: for callers that configure no hosts. */
export function defaultHostFolders(root = path.join(os.tmpdir(), 'runbooks-hosts')): Omit<HostActivitiesConfig, 'store'> {
  return { labRoot: path.join(root, 'lab'), stateDir: path.join(root, 'state') };
}

/** Every activity a runbook may call, wired to its drivers; register the result with the worker. */
export function createActivities(config: ActivitiesConfig): RunbookActivities {
  const secrets = new SecretResolver(config.secrets ?? secretsConfigFromEnv());
  const hosts = { ...(config.hosts ?? defaultHostFolders()), store: config.store, secrets };
  const hostDeps = createHostDeps(hosts);
  return {
    ...createBackupActivities(config.backup ?? new ResticDriver(), secrets),
    ...createFileActivities(),
    checkRestoreTarget: (input) =>
      new RestoreTargetPolicyStore(config.store, serviceDataDirs(config.dataDir, config.store)).assertAllowed(input),
    ...createNotifyActivities(config.notifier),
    ...createReportActivities(config.reportsDir, config.store),
    ...createHostActivities(hostDeps),
    ...createHardwareActivities(hostDeps.inventory, {
      lab: hostDeps.drivers.lab,
      local: new CommandHardware(new LocalTransport()),
      ssh: new CommandHardware(new SshTransport(hosts)),
    }),
    ...createAssetRegisterActivities(new AssetRegister(config.store)),
    ...createMaintenanceActivities(new CalendarStore(config.store, config.calendarFile)),
    ...createPreApprovalActivities(new PreApprovalStore(config.store, config.preApprovalsFile)),
  };
}
