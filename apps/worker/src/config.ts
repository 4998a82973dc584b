import { RUNBOOK_TASK_QUEUE } from '@runbooks/contracts';
import { storeLocationFromEnv, type StoreLocation } from '@runbooks/store';
import path from 'node:path';
import { z } from 'zod';

const repoRoot = path.resolve(__dirname, '..', '..', '..');

const workerConfigSchema = z.object({
  /** The store the API replicas share: PostgreSQL (RUNBOOKS_DATABASE_URL) or the data folder's SQLite file. */
  store: z.custom<StoreLocation>((v) => typeof v === 'object' && v !== null && 'kind' in v),
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
  /** Today's calendar file, imported into the store once if it exists. */
  calendarFile: z.string().min(1),
  /** Today's file of approvals given ahead, imported into the store once if it exists. */
  preApprovalsFile: z.string().min(1),
  hosts: z.object({
    /** Today's inventory file, imported into the store once if it exists. */
    inventoryFile: z.string().min(1),
    /** The lab fleet's simulated host disks (its ledger is the store's). */
    labRoot: z.string().min(1),
    /** The ssh driver's pinned host keys (its ledger and snapshot records are the store's). */
    stateDir: z.string().min(1),
  }),
});
export type WorkerConfig = z.infer<typeof workerConfigSchema>;

export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const dataDir = env.RUNBOOKS_DATA_DIR ?? path.join(repoRoot, 'data');
  return workerConfigSchema.parse({
    store: storeLocationFromEnv(env, path.join(repoRoot, 'data')),
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
    hosts: {
      inventoryFile: env.RUNBOOKS_INVENTORY_FILE ?? path.join(dataDir, 'inventory.json'),
      labRoot: env.RUNBOOKS_LAB_ROOT ?? path.join(dataDir, 'lab'),
      stateDir: env.RUNBOOKS_HOST_STATE_DIR ?? path.join(dataDir, 'host-state'),
    },
  });
}
