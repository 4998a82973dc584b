import { codecKeyRefsFromEnv, secretsConfigFromEnv, type SecretsConfig } from '@runbooks/activities';
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
  /** Names the queue only this worker polls (worker affinity); unique per machine. Default: hostname and pid. */
  workerId: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,100}$/, 'letters, digits, dot, dash or underscore')
    .optional(),
  /** Where run reports (Markdown and JSON) are written. */
  reportsDir: z.string().min(1),
  /**
   * Days the store keeps an ended run's report, status copy and host rows
   * (RUNBOOKS_RUN_RETENTION_DAYS); 0 keeps them for good. The audit log is never pruned.
   */
  runRetentionDays: z.coerce.number().int().min(0),
  /** Slack-compatible JSON webhook; without it, notifications go to notificationsLog. */
  notifyWebhookUrl: z.url().optional(),
  notificationsLog: z.string().min(1),
  /** A Slack app's bot posting notices (approval buttons included) to a channel; preferred over the webhook. */
  slackBot: z.object({ token: z.string().min(1), channel: z.string().min(1), apiUrl: z.url().optional() }).optional(),
  /** The web console's base URL, for the deep links notices carry. */
  consoleUrl: z.url().optional(),
  /** A pre-built workflow bundle (production start-up); otherwise the worker bundles at start. */
  workflowBundlePath: z.string().optional(),
  shutdownGraceMs: z.coerce.number().int().positive(),
  /** Runs kept in memory between tasks (see RunbookWorkerOptions.maxCachedWorkflows); unset: DEFAULT_MAX_CACHED_WORKFLOWS. */
  maxCachedWorkflows: z.coerce.number().int().min(0).optional(),
  /**
   * Verify the API's signed caller assertions: keys as `kid:base64[,kid:base64]` (the API's
   * RUNBOOKS_ASSERTION_KEYS; any listed key verifies). Secret: when secret names land, this is
   * where a reference replaces the literal.
   */
  assertions: z.object({ keys: z.string().min(1), maxAgeMs: z.number().int().positive() }).optional(),
  /** Today's calendar file, imported into the store once if it exists. */
  calendarFile: z.string().min(1),
  /** Today's file of approvals given ahead, imported into the store once if it exists. */
  preApprovalsFile: z.string().min(1),
  /** Caps restic's download rate (KiB/s); unset: no cap. */
  resticLimitDownloadKiB: z.coerce.number().int().positive().optional(),
  /** GET /metrics at this port (RUNBOOKS_WORKER_METRICS_PORT); unset: no listener. */
  metricsPort: z.coerce.number().int().min(0).max(65535).optional(),
  /** Where the metrics listener binds (RUNBOOKS_WORKER_METRICS_HOST): loopback unless a container must be scraped from outside. */
  metricsHost: z.string().min(1),
  /**
   * Where the Temporal SDK serves its own Prometheus metrics (RUNBOOKS_WORKER_SDK_METRICS_PORT, on
   * 127.0.0.1); the worker's /metrics includes them. Unset: the SDK exports none.
   */
  sdkMetricsPort: z.coerce.number().int().min(1).max(65535).optional(),
  /** Fault injection for the crash tests (see withFaultHold); absent in production. */
  faultHold: z.object({ activities: z.array(z.string().min(1)).min(1), markerDir: z.string().min(1) }).optional(),
  hosts: z.object({
    /** Today's inventory file, imported into the store once if it exists. */
    inventoryFile: z.string().min(1),
    /** The lab fleet's simulated host disks (its ledger is the store's). */
    labRoot: z.string().min(1),
    /** The ssh driver's pinned host keys (its ledger and snapshot records are the store's). */
    stateDir: z.string().min(1),
    /** Debian hosts' apt and dpkg act on this separate package root instead of the machine's packages (the demo's desk-01). */
    debianPackageRoot: z.string().min(1).optional(),
  }),
});
/** The settings, and where the secret definitions and backends are (secretsConfigFromEnv). */
export type WorkerConfig = z.infer<typeof workerConfigSchema> & {
  secrets: SecretsConfig;
  codecKeys: string[];
  /** The service's own data folder, never a restore target. */
  dataDir: string;
};

export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const dataDir = env.RUNBOOKS_DATA_DIR ?? path.join(repoRoot, 'data');
  const settings = workerConfigSchema.parse({
    store: storeLocationFromEnv(env, path.join(repoRoot, 'data')),
    temporalAddress: env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233',
    namespace: env.TEMPORAL_NAMESPACE ?? 'default',
    taskQueue: env.RUNBOOKS_TASK_QUEUE ?? RUNBOOK_TASK_QUEUE,
    workerId: env.RUNBOOKS_WORKER_ID || undefined,
    reportsDir: env.RUNBOOKS_REPORTS_DIR ?? path.join(dataDir, 'reports'),
    runRetentionDays: env.RUNBOOKS_RUN_RETENTION_DAYS || 400,
    notifyWebhookUrl: env.RUNBOOKS_NOTIFY_WEBHOOK_URL || undefined,
    notificationsLog: env.RUNBOOKS_NOTIFICATIONS_LOG ?? path.join(dataDir, 'notifications.jsonl'),
    slackBot:
      env.RUNBOOKS_SLACK_BOT_TOKEN && env.RUNBOOKS_SLACK_CHANNEL
        ? { token: env.RUNBOOKS_SLACK_BOT_TOKEN, channel: env.RUNBOOKS_SLACK_CHANNEL, apiUrl: env.RUNBOOKS_SLACK_API_URL || undefined }
        : undefined,
    consoleUrl: env.RUNBOOKS_CONSOLE_URL || undefined,
    workflowBundlePath: env.RUNBOOKS_WORKFLOW_BUNDLE || undefined,
    shutdownGraceMs: env.RUNBOOKS_SHUTDOWN_GRACE_MS ?? 30000,
    maxCachedWorkflows: env.RUNBOOKS_WORKER_MAX_CACHED_WORKFLOWS || undefined,
    assertions: env.RUNBOOKS_ASSERTION_KEYS
      ? { keys: env.RUNBOOKS_ASSERTION_KEYS, maxAgeMs: Number(env.RUNBOOKS_ASSERTION_MAX_AGE_SECONDS ?? 300) * 1000 }
      : undefined,
    calendarFile: env.RUNBOOKS_CALENDAR_FILE ?? path.join(dataDir, 'calendar.json'),
    preApprovalsFile: env.RUNBOOKS_PRE_APPROVALS_FILE ?? path.join(dataDir, 'pre-approvals.json'),
    resticLimitDownloadKiB: env.RUNBOOKS_RESTIC_LIMIT_DOWNLOAD_KIB || undefined,
    metricsPort: env.RUNBOOKS_WORKER_METRICS_PORT || undefined,
    metricsHost: env.RUNBOOKS_WORKER_METRICS_HOST || '127.0.0.1',
    sdkMetricsPort: env.RUNBOOKS_WORKER_SDK_METRICS_PORT || undefined,
    faultHold: env.RUNBOOKS_FAULT_HOLD_AFTER
      ? { activities: env.RUNBOOKS_FAULT_HOLD_AFTER.split(','), markerDir: env.RUNBOOKS_FAULT_HOLD_DIR }
      : undefined,
    hosts: {
      inventoryFile: env.RUNBOOKS_INVENTORY_FILE ?? path.join(dataDir, 'inventory.json'),
      labRoot: env.RUNBOOKS_LAB_ROOT ?? path.join(dataDir, 'lab'),
      stateDir: env.RUNBOOKS_HOST_STATE_DIR ?? path.join(dataDir, 'host-state'),
      debianPackageRoot: env.RUNBOOKS_DEBIAN_PACKAGE_ROOT || undefined,
    },
  });
  return { ...settings, secrets: secretsConfigFromEnv(env, dataDir), codecKeys: codecKeyRefsFromEnv(env), dataDir };
}
