import { SendOnceMailer } from './mail/once';
import type { Store } from '@runbooks/store';
import os from 'node:os';
import path from 'node:path';
import { accountsConfigFromEnv, createAccountActivities, type AccountsConfig } from './accounts/activities';
import { createPreApprovalActivities } from './approvals/activities';
import { PreApprovalStore } from './approvals/pre-approval-store';
import { AssetRegister, createAssetRegisterActivities } from './assets/activities';
import { createBackupActivities } from './backup/activities';
import { ResticDriver, type BackupDriver } from './backup/restic';
import { createDiagnosisActivities } from './diagnosis/activities';
import { createFileActivities } from './files/activities';
import { RestoreTargetPolicyStore, serviceDataDirs } from './files/target-policy';
import { createHostActivities, createHostDeps, type HostActivitiesConfig } from './hosts/activities';
import { createConflictActivities } from './hosts/conflict-activities';
import { InventoryStore } from './hosts/inventory-store';
import { SshTransport } from './hosts/ssh';
import { createIncidentActivities } from './incident/activities';
import { SmtpMailer, type Mailer } from './mail/smtp';
import { createHostRecordActivities } from './hosts/host-records';
import { LocalTransport } from './hosts/local';
import { CommandHardware, createHardwareActivities } from './hosts/hardware';
import { IpmiPower } from './hosts/ipmi';
import { createMaintenanceActivities } from './maintenance/activities';
import { CalendarStore } from './maintenance/calendar-store';
import { createNotifyActivities } from './notify/activities';
import type { Notifier } from './notify/webhook';
import { createReportActivities } from './reports/activities';
import { SecretResolver, secretsConfigFromEnv, type SecretsConfig } from './secrets/resolve-secret';
import type { RunbookActivities } from './types';

export { closeSafeGrpcRetry } from './temporal-client/close-safe-retry';
export * from './types';
export * from './conflict-types';
export * from './assets/activities';
export * from './hosts/hardware';
export * from './hosts/ipmi';
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
export * from './mail/smtp';
export { startSmtpReceiver, type ReceivedMail, type SmtpReceiver } from './mail/local-receiver';
export * from './directory/ldap-directory';
export { ACCOUNTS_SEED, seedAccountsDirectory, startSlapd, slapdMissing, TEST_DIRECTORY, type Slapd } from './directory/local-slapd';
export * from './accounts/activities';
export * from './accounts/file-server';
export * from './accounts/credentials';
export * from './reports/activities';
export * from './secrets/resolve-secret';
export * from './secrets/vault-kv2';
export * from './codec/payload-codec';
export * from './codec/codec-keys';
export * from './hosts';
export { createHostRecordActivities } from './hosts/host-records';
export * from './maintenance';
export * from './diagnosis/activities';
export * from './incident/activities';
export * from './incident/catalog-store';
export { runProbes, probeCommand } from './diagnosis/probes';

export interface ActivitiesConfig {
  /**
   * The shared state (inventory, calendar, approvals given ahead, host ledger and snapshots, run
   * reports), the same store the API uses.
   */
  store: Store;
  /** Where run reports are also written as files (Markdown and JSON) on the worker. */
  reportsDir: string;
  /** How long the store keeps an ended run's report, status copy and host rows; unset: for good. */
  retention?: { days: number };
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
  /** The directory, file server, mail host and role catalogue of the account runbooks; default: from the environment (accountsConfigFromEnv). */
  accounts?: AccountsConfig;
  /** The SMTP relay mail to people goes through; default: from the environment (SmtpMailer.fromEnv). */
  mailer?: Mailer;
}

/** Folders under `<tmp>/runbooks-hosts/`: for callers that configure no hosts. */
export function defaultHostFolders(root = path.join(os.tmpdir(), 'runbooks-hosts')): Omit<HostActivitiesConfig, 'store'> {
  return { labRoot: path.join(root, 'lab'), stateDir: path.join(root, 'state') };
}

/** Every activity a runbook may call, wired to its drivers; register the result with the worker. */
export function createActivities(config: ActivitiesConfig): RunbookActivities {
  const secrets = new SecretResolver(config.secrets ?? secretsConfigFromEnv());
  const hosts = config.hosts ?? defaultHostFolders();
  const hostDeps = createHostDeps({ ...hosts, store: config.store, secrets });
  // Mail to people goes out once per activity, however often it is retried.
  const mailer = new SendOnceMailer(config.mailer ?? SmtpMailer.fromEnv(secrets), config.store.sentMail);
  return {
    ...createBackupActivities(config.backup ?? new ResticDriver(), secrets),
    ...createFileActivities(),
    ...createDiagnosisActivities(),
    checkRestoreTarget: (input) =>
      new RestoreTargetPolicyStore(config.store, serviceDataDirs(config.dataDir, config.store)).assertAllowed(input),
    ...createNotifyActivities(config.notifier),
    ...createReportActivities(config.reportsDir, config.store, config.retention),
    ...createHostActivities(hostDeps),
    ...createConflictActivities({ ...hostDeps, store: config.store }),
    ...createIncidentActivities({
      store: config.store,
      inventory: new InventoryStore(config.store, hosts.inventoryFile),
      ssh: new SshTransport({ stateDir: hosts.stateDir, store: config.store, secrets }),
      mailer,
    }),
    ...createHostRecordActivities(config.store, hostDeps.inventory),
    ...createHardwareActivities(hostDeps.inventory, {
      lab: hostDeps.drivers.lab,
      local: new CommandHardware(new LocalTransport()),
      ssh: new CommandHardware(new SshTransport({ stateDir: hosts.stateDir, store: config.store, secrets }), {
        ipmi: new IpmiPower({ secrets }),
        store: config.store,
      }),
    }),
    ...createAssetRegisterActivities(new AssetRegister(config.store)),
    ...createMaintenanceActivities(new CalendarStore(config.store, config.calendarFile)),
    ...createPreApprovalActivities(new PreApprovalStore(config.store, config.preApprovalsFile), config.secrets?.assertions?.keys),
    ...createAccountActivities({
      config: config.accounts ?? accountsConfigFromEnv(process.env, config.dataDir),
      store: config.store,
      secrets,
      mailer,
      transportFor: (host) =>
        host.driver === 'ssh' ? new SshTransport({ stateDir: hosts.stateDir, store: config.store, secrets }) : new LocalTransport(),
    }),
  };
}
export * from './observability/metrics';
export * from './observability/tracing';
export * from './observability/logger';
export * from './observability/nest-logger';
export * from './observability/stop-signals';
