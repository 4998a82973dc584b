import os from 'node:os';
import path from 'node:path';
import { createPreApprovalActivities } from './approvals/activities';
import { PreApprovalStore } from './approvals/pre-approval-store';
import { createBackupActivities } from './backup/activities';
import { ResticDriver, type BackupDriver } from './backup/restic';
import { createFileActivities } from './files/activities';
import { createHostActivities, createHostDeps, defaultHostActivitiesConfig, type HostActivitiesConfig } from './hosts/activities';
import { createMaintenanceActivities } from './maintenance/activities';
import { CalendarStore, defaultCalendarFile } from './maintenance/calendar-store';
import { createNotifyActivities } from './notify/activities';
import type { Notifier } from './notify/webhook';
import { createReportActivities } from './reports/activities';
import type { RunbookActivities } from './types';

export * from './types';
export * from './approvals';
export * from './backup/restic';
export * from './backup/activities';
export type { RemovedLock } from './backup/repository-locks';
export { killAllProcessGroups } from './child-processes';
export { keepAlive } from './activity-context';
export * from './files/activities';
export type { EntryType, TreeEntry } from './files/tree';
export * from './notify/webhook';
export * from './notify/activities';
export * from './reports/activities';
export * from './secrets/resolve-secret';
export * from './hosts';
export * from './maintenance';

export interface ActivitiesConfig {
  /** Where run reports are written. */
  reportsDir: string;
  /** A WebhookNotifier, or a LogNotifier when no webhook is configured. */
  notifier: Notifier;
  /** Defaults to the restic on the worker's PATH. */
  backup?: BackupDriver;
  /** The inventory, lab fleet and ssh/local driver state; defaults to files under `<tmp>/runbooks-hosts/`. */
  hosts?: HostActivitiesConfig;
  /** The maintenance calendar JSON file (windows and change freezes); defaults to `<tmp>/runbooks-calendar.json`. */
  calendarFile?: string;
  /** Approvals given ahead for scheduled runs; defaults to `<tmp>/runbooks-pre-approvals.json`. */
  preApprovalsFile?: string;
}

/** Every activity a runbook may call, wired to its drivers; register the result with the worker. */
export function createActivities(config: ActivitiesConfig): RunbookActivities {
  return {
    ...createBackupActivities(config.backup ?? new ResticDriver()),
    ...createFileActivities(),
    ...createNotifyActivities(config.notifier),
    ...createReportActivities(config.reportsDir),
    ...createHostActivities(createHostDeps(config.hosts ?? defaultHostActivitiesConfig())),
    ...createMaintenanceActivities(new CalendarStore(config.calendarFile ?? defaultCalendarFile())),
    ...createPreApprovalActivities(new PreApprovalStore(config.preApprovalsFile ?? path.join(os.tmpdir(), 'runbooks-pre-approvals.json'))),
  };
}
