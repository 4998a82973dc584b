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
  /**
   * One-time links handing a new password (and MFA enrolment) to a person: looked up by the
   * token's sha256, the content sealed with a key derived from the token (the store alone
   * cannot open it), emptied when redeemed.
   */
  account_credential_links: {
    id: string;
    token_sha256: string;
    run_id: string;
    username: string;
    sealed: string | null;
    /** Until the link is sent: the password and token sealed with the verifier's key, for the access test and the delivery. */
    pending_sealed: string | null;
    created_at: string;
    expires_at: string;
    redeemed_at: string | null;
  };
  /** TOTP secrets, sealed with the verifier's key (RUNBOOKS_ACCOUNTS_MFA_KEY): only the verifier opens them. */
  account_mfa_secrets: { username: string; sealed: string; run_id: string; enrolled_at: string };
  /** Legacy JSON files already imported (so an import happens once, whichever process starts first). */
  imports: { source: string; imported_at: string };
}
