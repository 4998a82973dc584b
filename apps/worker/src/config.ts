import { RUNBOOK_TASK_QUEUE } from '@runbooks/contracts';
import path from 'node:path';
import { z } from 'zod';

const repoRoot = path.resolve(__dirname, '..', '..', '..');

const workerConfigSchema = z.object({
  temporalAddress: z.string().min(1),
  namespace: z.string().min(1),
  taskQueue: z.string().min(1),
  /** Where run reports (Markdown and JSON) are written. */
  reportsDir: z.string().min(1),
  /** Slack-compatible JSON webhook; without it, notifications go to notificationsLog. */
  notifyWebhookUrl: z.url().optional(),
  notificationsLog: z.string().min(1),
  /** A pre-built workflow bundle (production start-up); otherwise the worker bundles at start. */
  workflowBundlePath: z.string().optional(),
  shutdownGraceMs: z.coerce.number().int().positive(),
  /** Maintenance windows and change freezes (the API's /v1/maintenance endpoints write it). */
  calendarFile: z.string().min(1),
  /** Approvals given ahead for scheduled runs (the API writes them). */
  preApprovalsFile: z.string().min(1),
  /** Caps restic's download rate (KiB/s); unset: no cap. */
  resticLimitDownloadKiB: z.coerce.number().int().positive().optional(),
  /** Fault injection for the crash tests (see withFaultHold); absent in production. */
  faultHold: z.object({ activities: z.array(z.string().min(1)).min(1), markerDir: z.string().min(1) }).optional(),
  hosts: z.object({
    /** The inventory the API's PUT /v1/inventory writes and the host activities read. */
    inventoryFile: z.string().min(1),
    /** The lab fleet's state and ledger (the embedded default's simulated hosts). */
    labRoot: z.string().min(1),
    /** The ssh/local drivers' snapshots and applied keys. */
    stateDir: z.string().min(1),
  }),
});
export type WorkerConfig = z.infer<typeof workerConfigSchema>;

export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const dataDir = env.RUNBOOKS_DATA_DIR ?? path.join(repoRoot, 'data');
  return workerConfigSchema.parse({
    temporalAddress: env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233',
    namespace: env.TEMPORAL_NAMESPACE ?? 'default',
    taskQueue: env.RUNBOOKS_TASK_QUEUE ?? RUNBOOK_TASK_QUEUE,
    reportsDir: env.RUNBOOKS_REPORTS_DIR ?? path.join(dataDir, 'reports'),
    notifyWebhookUrl: env.RUNBOOKS_NOTIFY_WEBHOOK_URL || undefined,
    notificationsLog: env.RUNBOOKS_NOTIFICATIONS_LOG ?? path.join(dataDir, 'notifications.jsonl'),
    workflowBundlePath: env.RUNBOOKS_WORKFLOW_BUNDLE || undefined,
    shutdownGraceMs: env.RUNBOOKS_SHUTDOWN_GRACE_MS ?? 30000,
    calendarFile: env.RUNBOOKS_CALENDAR_FILE ?? path.join(dataDir, 'calendar.json'),
    preApprovalsFile: env.RUNBOOKS_PRE_APPROVALS_FILE ?? path.join(dataDir, 'pre-approvals.json'),
    resticLimitDownloadKiB: env.RUNBOOKS_RESTIC_LIMIT_DOWNLOAD_KIB || undefined,
    faultHold: env.RUNBOOKS_FAULT_HOLD_AFTER
      ? { activities: env.RUNBOOKS_FAULT_HOLD_AFTER.split(','), markerDir: env.RUNBOOKS_FAULT_HOLD_DIR }
      : undefined,
    hosts: {
      inventoryFile: env.RUNBOOKS_INVENTORY_FILE ?? path.join(dataDir, 'inventory.json'),
      labRoot: env.RUNBOOKS_LAB_ROOT ?? path.join(dataDir, 'lab'),
      stateDir: env.RUNBOOKS_HOST_STATE_DIR ?? path.join(dataDir, 'host-state'),
    },
  });
}
