/**
 * The tables of the store. Every JSON document is kept as text (`body`, `result`, ...) and every
 * time as an ISO-8601 string in UTC, so the same columns and queries serve SQLite and PostgreSQL.
 */
export interface StoreTables {
  /** One row per versioned document ('inventory', 'calendar', 'restore-targets'): its version is the ETag. */
  versions: { name: string; version: number; updated_at: string | null };
  inventory_hosts: { name: string; position: number; body: string };
  maintenance_windows: { name: string; created_at: string; body: string };
  change_freezes: { name: string; created_at: string; body: string };
  pre_approvals: {
    id: string;
    schedule_id: string;
    gate_id: string;
    at: string;
    body: string;
    consumed_by: string | null;
    voided_because: string | null;
  };
  /** The host-operation ledger: a key is claimed (inserted) before it is applied, its result recorded after. */
  host_operations: {
    scope: string;
    host: string;
    op: string;
    key: string;
    owner: string;
    attempt: number;
    claimed_at: string;
    lease_until: string;
    result: string | null;
    applied_at: string | null;
  };
  host_snapshots: { snapshot_id: string; scope: string; host: string; taken_at: string; body: string };
  run_reports: { workflow_id: string; run_id: string; created_at: string; body: string };
  principals: { id: string; body: string; created_at: string };
  tokens: {
    id: string;
    principal_id: string;
    token_sha256: string;
    label: string;
    created_at: string;
    created_by: string;
    revoked_at: string | null;
    revoked_by: string | null;
  };
  audit_log: { id: string; at: string; actor: string; action: string; target: string; detail: string };
  /** Where restores from each repository may write (one rule per repository, JSON), versioned as 'restore-targets'. */
  restore_target_rules: { repository: string; position: number; body: string };
  /** The asset register: one row per asset tag (JSON body), each versioned on its own (its version is the ETag). */
  assets: { tag: string; host: string; version: number; updated_at: string; body: string };
  /** Legacy JSON files already imported (so an import happens once, whichever process starts first). */
  imports: { source: string; imported_at: string };
}
