/**
 * The tables of the store. Every JSON document is kept as text (`body`, `result`, ...) and every
 * time as an ISO-8601 string in UTC, so the same columns and queries serve SQLite and PostgreSQL.
 */
export interface StoreTables {
  /** Mail handed to a relay, by a key stable across an activity's retries (activities/src/mail/once.ts). */
  sent_mail: { key: string; message_id: string; sent_at: string };
  /** SSH host keys trusted on first use (hosts without a pinned key), one per host for every worker. */
  ssh_known_hosts: { host: string; sha256: string; first_seen_at: string };
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
  run_reports: { workflow_id: string; run_id: string; created_at: string; body: string; runbook: string | null; outcome: string | null };
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
  /** The incident catalogue (one row, 'catalog': JSON), versioned as 'incident-catalog'. */
  incident_catalog: { name: string; body: string };
  /**
   * The software-conflict reproductions (one row per name, JSON, in catalogue order), versioned as
   * 'conflict-reproductions'; `revision` is the catalogue version at which the row's body last changed.
   */
  conflict_reproductions: { name: string; position: number; revision: number; body: string };
  /**
   * One row per host of a fleet run (keyed by run and host): its wave and batch from the plan, then
   * what the procedure did there. Written by the run's activities; a retried write rewrites the row.
   */
  run_hosts: {
    run_id: string;
    host: string;
    /** The host's place in the run's plan (waves in order, hosts in inventory order): the paging order. */
    position: number;
    wave: number;
    batch: number;
    state: string;
    attempts: number;
    snapshot_id: string | null;
    error: string | null;
    /** JSON: the package changes the procedure made. */
    changed: string | null;
    started_at: string | null;
    ended_at: string | null;
    updated_at: string;
  };
  /**
   * The latest status of each run (its RunState, JSON), as the run last published it; `version`
   * orders the copies (text that sorts as the run's progress), so a late write never replaces a newer one.
   * `checked_at`: when the retention last asked Temporal about the run, idle past the retention, and found it open.
   */
  run_status: { run_id: string; status: string; version: string; updated_at: string; body: string; checked_at: string | null };
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
  /** The asset register: one row per asset tag (JSON body), each versioned on its own (its version is the ETag). */
  assets: { tag: string; host: string; version: number; updated_at: string; body: string };
  /** Legacy JSON files already imported (so an import happens once, whichever process starts first). */
  imports: { source: string; imported_at: string };
  /** Knowledge-base articles (JSON body); `search_text` is the article's words in lowercase, for LIKE. */
  knowledge_base_articles: { id: string; run_id: string; created_at: string; title: string; search_text: string; body: string };
}
