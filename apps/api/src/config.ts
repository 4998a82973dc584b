import { codecKeyRefsFromEnv } from '@runbooks/activities/api-surface';
import { RUNBOOK_TASK_QUEUE } from '@runbooks/contracts';
import { storeLocationFromEnv, type StoreLocation } from '@runbooks/store';
import path from 'node:path';
import { z } from 'zod';

const repoRoot = path.resolve(__dirname, '..', '..', '..');

const logLevelSchema = z.enum(['log', 'error', 'warn', 'debug', 'verbose', 'fatal']);

export const apiConfigSchema = z.object({
  temporalAddress: z.string().min(1).default('127.0.0.1:7233'),
  namespace: z.string().min(1).default('default'),
  /** Runs are started on this queue, and listing is scoped to it. */
  taskQueue: z.string().min(1).default(RUNBOOK_TASK_QUEUE),
  /**
   * The store every API and worker replica shares: PostgreSQL (RUNBOOKS_DATABASE_URL) or the
   * SQLite file `runbooks.sqlite` in the data folder.
   */
  store: z
    .custom<StoreLocation>((v) => typeof v === 'object' && v !== null && 'kind' in v)
    .default({ kind: 'sqlite', file: path.join(repoRoot, 'data', 'runbooks.sqlite') }),
  /** The service's own data folder (RUNBOOKS_DATA_DIR): never a restore target, whatever the policy says. */
  dataDir: z.string().min(1).default(path.join(repoRoot, 'data')),
  /** Principals and their token hashes, imported into the store at its first start (then managed through /v1/admin/tokens). */
  principalsFile: z
    .string()
    .min(1)
    .default(path.join(repoRoot, 'config', 'principals.demo.json')),
  /** Today's inventory file (JSON `{ hosts: [...] }`), imported into the store once if it exists. */
  inventoryFile: z
    .string()
    .min(1)
    .default(path.join(repoRoot, 'data', 'inventory.json')),
  /** Today's maintenance calendar file (JSON `{ windows, freezes }`), imported into the store once if it exists. */
  calendarFile: z
    .string()
    .min(1)
    .default(path.join(repoRoot, 'data', 'calendar.json')),
  /** Today's file of approvals given ahead (JSON), imported into the store once if it exists. */
  preApprovalsFile: z
    .string()
    .min(1)
    .default(path.join(repoRoot, 'data', 'pre-approvals.json')),
  /** The secret definitions (JSON `{ secrets: [...] }`): a launch naming a secret is checked against them; the worker reads it too. */
  secretsFile: z
    .string()
    .min(1)
    .default(path.join(repoRoot, 'data', 'secrets.json')),
  /** Where `file` secrets live (the payload codec keys may be kept there). */
  secretsDir: z
    .string()
    .min(1)
    .default(path.join(repoRoot, 'data', 'secrets')),
  /** The payload codec keys as secret references, newest first; none: payloads are stored unencrypted. */
  codecKeys: z.array(z.string().min(1)).default([]),
  /** The Temporal web UI's origin (e.g. http://127.0.0.1:8233), allowed to call /codec/* from the browser (CORS). */
  temporalUiOrigin: z.url().optional(),
  /** How long an update or query may wait for the worker before the API answers 503. */
  updateTimeoutMs: z.number().int().positive().max(600_000).default(10_000),
  logLevels: z.array(logLevelSchema).default(['log', 'warn', 'error', 'fatal']),
  /**
   * Keys that sign caller assertions, `kid:base64key[,kid:base64key]`, newest first (the newest
   * signs; workers accept any listed). Shared with the workers. Secret: when secret names land,
   * a reference replaces this literal.
   */
  assertionKeys: z.string().min(1).optional(),
  /** When set, GET /metrics needs `Authorization: Bearer <token>` (RUNBOOKS_METRICS_TOKEN); unset, it is open. */
  metricsToken: z.string().min(16).optional(),
  /** Where main.ts listens; createApiApp does not listen. */
  host: z.string().min(1).default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(3000),
});

/** The resolved configuration (defaults applied). */
export type ApiConfig = z.output<typeof apiConfigSchema>;
/** What callers may pass: every field has a default. */
export type ApiConfigInput = z.input<typeof apiConfigSchema>;

export function parseApiConfig(input: ApiConfigInput): ApiConfig {
  return apiConfigSchema.parse(input);
}

/** Reads the configuration from the environment; unset or empty variables take the defaults. */
export function loadApiConfig(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  const get = (name: string) => (env[name] ? env[name] : undefined);
  const timeout = get('RUNBOOKS_UPDATE_TIMEOUT_MS');
  const levels = get('RUNBOOKS_API_LOG_LEVELS');
  const port = get('PORT');
  const dataDir = get('RUNBOOKS_DATA_DIR');
  return apiConfigSchema.parse({
    temporalAddress: get('TEMPORAL_ADDRESS'),
    namespace: get('TEMPORAL_NAMESPACE'),
    taskQueue: get('RUNBOOKS_TASK_QUEUE'),
    store: storeLocationFromEnv(env, path.join(repoRoot, 'data')),
    dataDir,
    principalsFile: get('RUNBOOKS_PRINCIPALS_FILE'),
    // Like the worker: RUNBOOKS_DATA_DIR moves the default, so both find the same file.
    inventoryFile: get('RUNBOOKS_INVENTORY_FILE') ?? (dataDir === undefined ? undefined : path.join(dataDir, 'inventory.json')),
    calendarFile: get('RUNBOOKS_CALENDAR_FILE') ?? (dataDir === undefined ? undefined : path.join(dataDir, 'calendar.json')),
    preApprovalsFile: get('RUNBOOKS_PRE_APPROVALS_FILE') ?? (dataDir === undefined ? undefined : path.join(dataDir, 'pre-approvals.json')),
    secretsFile: get('RUNBOOKS_SECRETS_FILE') ?? (dataDir === undefined ? undefined : path.join(dataDir, 'secrets.json')),
    secretsDir: get('RUNBOOKS_SECRETS_DIR') ?? (dataDir === undefined ? undefined : path.join(dataDir, 'secrets')),
    codecKeys: codecKeyRefsFromEnv(env),
    temporalUiOrigin: get('RUNBOOKS_TEMPORAL_UI_ORIGIN'),
    updateTimeoutMs: timeout === undefined ? undefined : Number(timeout),
    logLevels: levels === undefined ? undefined : levels.split(',').map((l) => l.trim()),
    assertionKeys: get('RUNBOOKS_ASSERTION_KEYS'),
    metricsToken: get('RUNBOOKS_METRICS_TOKEN'),
    host: get('HOST'),
    port: port === undefined ? undefined : Number(port),
  });
}
