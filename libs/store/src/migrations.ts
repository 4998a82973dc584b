import { type Kysely, type Migration, type MigrationProvider } from 'kysely';

/**
 * The store's migrations, in code (no files to ship next to dist/). The same migrations run on
 * SQLite and PostgreSQL: only portable column types (text, integer) and portable constraints.
 * Add a migration with the next number; never edit one that was released.
 */
const migrations: Record<string, Migration> = {
  '0001-shared-state': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a migration sees the schema as it was then, not StoreTables
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('versions')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('updated_at', 'text')
        .execute();
      await db
        .insertInto('versions')
        .values([
          { name: 'inventory', version: 0, updated_at: null },
          { name: 'calendar', version: 0, updated_at: null },
        ])
        .execute();
      await db.schema
        .createTable('inventory_hosts')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('position', 'integer', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .execute();
      for (const table of ['maintenance_windows', 'change_freezes']) {
        await db.schema
          .createTable(table)
          .addColumn('name', 'text', (c) => c.primaryKey())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('body', 'text', (c) => c.notNull())
          .execute();
      }
      await db.schema
        .createTable('pre_approvals')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('schedule_id', 'text', (c) => c.notNull())
        .addColumn('gate_id', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('consumed_by', 'text')
        .addColumn('voided_because', 'text')
        .execute();
      await db.schema.createIndex('pre_approvals_by_schedule').on('pre_approvals').columns(['schedule_id', 'gate_id']).execute();
      await db.schema
        .createTable('host_operations')
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('host', 'text', (c) => c.notNull())
        .addColumn('op', 'text', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('owner', 'text', (c) => c.notNull())
        .addColumn('attempt', 'integer', (c) => c.notNull())
        .addColumn('claimed_at', 'text', (c) => c.notNull())
        .addColumn('lease_until', 'text', (c) => c.notNull())
        .addColumn('result', 'text')
        .addColumn('applied_at', 'text')
        .addPrimaryKeyConstraint('host_operations_key', ['scope', 'host', 'op', 'key'])
        .execute();
      await db.schema
        .createTable('host_snapshots')
        .addColumn('snapshot_id', 'text', (c) => c.notNull())
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('host', 'text', (c) => c.notNull())
        .addColumn('taken_at', 'text', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('host_snapshots_key', ['scope', 'snapshot_id'])
        .execute();
      await db.schema
        .createTable('run_reports')
        .addColumn('workflow_id', 'text', (c) => c.primaryKey())
        .addColumn('run_id', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('principals')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('tokens')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('principal_id', 'text', (c) => c.notNull().references('principals.id'))
        .addColumn('token_sha256', 'text', (c) => c.notNull().unique())
        .addColumn('label', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('revoked_at', 'text')
        .addColumn('revoked_by', 'text')
        .execute();
      await db.schema
        .createTable('audit_log')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('target', 'text', (c) => c.notNull())
        .addColumn('detail', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('audit_log_by_time').on('audit_log').columns(['at', 'id']).execute();
      await db.schema
        .createTable('imports')
        .addColumn('source', 'text', (c) => c.primaryKey())
        .addColumn('imported_at', 'text', (c) => c.notNull())
        .execute();
    },
  },
  '0002-restore-target-policy': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a migration sees the schema as it was then, not StoreTables
    async up(db: Kysely<any>): Promise<void> {
      await db.insertInto('versions').values({ name: 'restore-targets', version: 0, updated_at: null }).execute();
      await db.schema
        .createTable('restore_target_rules')
        .addColumn('repository', 'text', (c) => c.primaryKey())
        .addColumn('position', 'integer', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .execute();
    },
  },
  '0006-incidents': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a migration sees the schema as it was then, not StoreTables
    async up(db: Kysely<any>): Promise<void> {
      await db.insertInto('versions').values({ name: 'incident-catalog', version: 0, updated_at: null }).execute();
      // One document: the services, locations, resolvers and network devices the incident runbook diagnoses.
      await db.schema
        .createTable('incident_catalog')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('body', 'text', (c) => c.notNull())
        .execute();
    },
  },
  '0011-sent-mail': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a migration sees the schema as it was then, not StoreTables
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('sent_mail')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('message_id', 'text', (c) => c.notNull())
        .addColumn('sent_at', 'text', (c) => c.notNull())
        .execute();
    },
  },
  '0009-ssh-known-hosts': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a migration sees the schema as it was then, not StoreTables
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('ssh_known_hosts')
        .addColumn('host', 'text', (c) => c.primaryKey())
        .addColumn('sha256', 'text', (c) => c.notNull())
        .addColumn('first_seen_at', 'text', (c) => c.notNull())
        .execute();
    },
  },
  '0008-knowledge-base': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a migration sees the schema as it was then, not StoreTables
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('knowledge_base_articles')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('run_id', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('search_text', 'text', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('knowledge_base_by_time').on('knowledge_base_articles').columns(['created_at', 'id']).execute();
    },
  },
  '0003-host-records': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a migration sees the schema as it was then, not StoreTables
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('run_hosts')
        .addColumn('run_id', 'text', (c) => c.notNull())
        .addColumn('host', 'text', (c) => c.notNull())
        .addColumn('position', 'integer', (c) => c.notNull())
        .addColumn('wave', 'integer', (c) => c.notNull())
        .addColumn('batch', 'integer', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('snapshot_id', 'text')
        .addColumn('error', 'text')
        .addColumn('changed', 'text')
        .addColumn('started_at', 'text')
        .addColumn('ended_at', 'text')
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('run_hosts_key', ['run_id', 'host'])
        .execute();
      await db.schema.createIndex('run_hosts_by_position').on('run_hosts').columns(['run_id', 'position']).execute();
      await db.schema.createIndex('run_hosts_by_batch').on('run_hosts').columns(['run_id', 'wave', 'batch', 'position']).execute();
      await db.schema.createIndex('run_hosts_by_state').on('run_hosts').columns(['run_id', 'state', 'position']).execute();
      await db.schema
        .createTable('run_status')
        .addColumn('run_id', 'text', (c) => c.primaryKey())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .execute();
    },
  },
  '0005-accounts': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a migration sees the schema as it was then, not StoreTables
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('account_credential_links')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('token_sha256', 'text', (c) => c.notNull().unique())
        .addColumn('run_id', 'text', (c) => c.notNull())
        .addColumn('username', 'text', (c) => c.notNull())
        .addColumn('sealed', 'text')
        .addColumn('pending_sealed', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('redeemed_at', 'text')
        .execute();
      await db.schema
        .createTable('account_mfa_secrets')
        .addColumn('username', 'text', (c) => c.primaryKey())
        .addColumn('sealed', 'text', (c) => c.notNull())
        .addColumn('run_id', 'text', (c) => c.notNull())
        .addColumn('enrolled_at', 'text', (c) => c.notNull())
        .execute();
    },
  },
  '0007-asset-register': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a migration sees the schema as it was then, not StoreTables
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('assets')
        .addColumn('tag', 'text', (c) => c.primaryKey())
        .addColumn('host', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('assets_by_host').on('assets').columns(['host', 'tag']).execute();
    },
  },
  '0010-conflict-reproductions': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a migration sees the schema as it was then, not StoreTables
    async up(db: Kysely<any>): Promise<void> {
      await db.insertInto('versions').values({ name: 'conflict-reproductions', version: 0, updated_at: null }).execute();
      // The software-conflict runbook's reproductions, written by admins: each row's revision is the
      // catalogue version at which its body last changed, so a run can say which one it ran.
      await db.schema
        .createTable('conflict_reproductions')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('position', 'integer', (c) => c.notNull())
        .addColumn('revision', 'integer', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .execute();
    },
  },
  '0012-run-retention': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a migration sees the schema as it was then, not StoreTables
    async up(db: Kysely<any>): Promise<void> {
      // The retention prune finds the oldest reports and status copies by their time.
      await db.schema.createIndex('run_reports_by_created').on('run_reports').columns(['created_at']).execute();
      await db.schema.createIndex('run_status_by_status').on('run_status').columns(['status', 'updated_at']).execute();
    },
  },
  '0013-run-idle-checks': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a migration sees the schema as it was then, not StoreTables
    async up(db: Kysely<any>): Promise<void> {
      // When the retention last asked Temporal about an idle run and found it open: asked last next time.
      await db.schema.alterTable('run_status').addColumn('checked_at', 'text').execute();
    },
  },
  '0014-report-outcomes': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a migration sees the schema as it was then, not StoreTables
    async up(db: Kysely<any>): Promise<void> {
      // Which runbook a report is of and how its run ended, so runs failing in a row are counted in
      // the store (by every replica alike); reports written before this have neither.
      await db.schema.alterTable('run_reports').addColumn('runbook', 'text').execute();
      await db.schema.alterTable('run_reports').addColumn('outcome', 'text').execute();
      await db.schema.createIndex('run_reports_by_runbook').on('run_reports').columns(['runbook', 'outcome', 'created_at']).execute();
    },
  },
  '0015-report-outcomes-backfill': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a migration sees the schema as it was then, not StoreTables
    async up(db: Kysely<any>): Promise<void> {
      // Reports written before 0014 get their runbook and outcome from their own body (the run's
      // state: its `runbook` and `status`), so runs failing in a row count across the upgrade.
      // Read in pages by workflow id, parsed here rather than by each backend's JSON functions; a
      // body that names neither is left unlabelled, as before.
      let after = '';
      for (;;) {
        const page: Array<{ workflow_id: string; body: string }> = await db
          .selectFrom('run_reports')
          .select(['workflow_id', 'body'])
          .where('runbook', 'is', null)
          .where('workflow_id', '>', after)
          .orderBy('workflow_id')
          .limit(BACKFILL_PAGE)
          .execute();
        for (const row of page) {
          const labels = reportLabels(row.body);
          if (labels) await db.updateTable('run_reports').set(labels).where('workflow_id', '=', row.workflow_id).execute();
        }
        if (page.length < BACKFILL_PAGE) return;
        after = page[page.length - 1].workflow_id;
      }
    },
  },
};

/** Reports read per page by a backfill. */
const BACKFILL_PAGE = 200;

/** A stored report's runbook and outcome, from its body (a run's state), when it names both. */
function reportLabels(body: string): { runbook: string; outcome: string } | undefined {
  let state: unknown;
  try {
    state = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof state !== 'object' || state === null) return undefined;
  const { runbook, status } = state as { runbook?: unknown; status?: unknown };
  return typeof runbook === 'string' && typeof status === 'string' ? { runbook, outcome: status } : undefined;
}

export const storeMigrations: MigrationProvider = {
  getMigrations: async () => migrations,
};
