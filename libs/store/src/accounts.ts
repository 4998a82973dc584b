import type { Store } from './store';

/** A one-time credential link as stored: the content is sealed and emptied once redeemed. */
export interface CredentialLinkRow {
  id: string;
  runId: string;
  username: string;
  expiresAt: string;
  redeemedAt: string | null;
}

export type RedeemOutcome =
  | { state: 'redeemed'; link: CredentialLinkRow; sealed: string }
  | { state: 'unknown' }
  | { state: 'used'; link: CredentialLinkRow }
  | { state: 'expired'; link: CredentialLinkRow };

/**
 * The account runbooks' state outside Temporal: one-time credential links and enrolled TOTP
 * secrets. Single use rests on a conditional update in the database, never on a process's lock.
 */
export class AccountsRepository {
  constructor(private readonly store: Store) {}

  async createLink(link: {
    id: string;
    tokenSha256: string;
    runId: string;
    username: string;
    sealed: string;
    pendingSealed: string;
    expiresAt: string;
  }): Promise<void> {
    await this.store.ready();
    await this.store.db
      .insertInto('account_credential_links')
      .values({
        id: link.id,
        token_sha256: link.tokenSha256,
        run_id: link.runId,
        username: link.username,
        sealed: link.sealed,
        pending_sealed: link.pendingSealed,
        created_at: new Date().toISOString(),
        expires_at: link.expiresAt,
        redeemed_at: null,
      })
      .execute();
  }

  async findLink(id: string): Promise<CredentialLinkRow | undefined> {
    await this.store.ready();
    const row = await this.store.db.selectFrom('account_credential_links').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toLink(row);
  }

  /** The link's pending content (sealed with the verifier's key) while it is not sent; undefined after. */
  async pendingOf(id: string): Promise<string | undefined> {
    await this.store.ready();
    const row = await this.store.db.selectFrom('account_credential_links').select('pending_sealed').where('id', '=', id).executeTakeFirst();
    return row?.pending_sealed ?? undefined;
  }

  /** The link may be redeemed until `expiresAt` (set before it is sent, so it works when it arrives). */
  async openLink(id: string, expiresAt: string): Promise<void> {
    await this.store.ready();
    await this.store.db
      .updateTable('account_credential_links')
      .set({ expires_at: expiresAt })
      .where('id', '=', id)
      .where('redeemed_at', 'is', null)
      .execute();
  }

  /** The link is sent: the worker keeps no copy of what it holds. */
  async clearPending(id: string): Promise<void> {
    await this.store.ready();
    await this.store.db.updateTable('account_credential_links').set({ pending_sealed: null }).where('id', '=', id).execute();
  }

  /** Links of a run not redeemed yet (a run undone voids them). */
  async voidLinksOf(runId: string, username: string): Promise<number> {
    await this.store.ready();
    const result = await this.store.db
      .updateTable('account_credential_links')
      .set({ sealed: null, pending_sealed: null, expires_at: new Date(0).toISOString() })
      .where('run_id', '=', runId)
      .where('username', '=', username)
      .where('redeemed_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /** Every unredeemed link of the person, whichever run made it (a leaver's). */
  async voidAllLinksOf(username: string): Promise<number> {
    await this.store.ready();
    const result = await this.store.db
      .updateTable('account_credential_links')
      .set({ sealed: null, pending_sealed: null, expires_at: new Date(0).toISOString() })
      .where('username', '=', username)
      .where('redeemed_at', 'is', null)
      .where('sealed', 'is not', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /**
   * Takes the link's sealed content once: the first caller before the expiry gets it (and the
   * row keeps no content after); every other caller learns why not.
   */
  async redeem(tokenSha256: string, at = new Date()): Promise<RedeemOutcome> {
    await this.store.ready();
    return this.store.db.transaction().execute(async (trx) => {
      const claimed = await trx
        .updateTable('account_credential_links')
        .set({ redeemed_at: at.toISOString() })
        .where('token_sha256', '=', tokenSha256)
        .where('redeemed_at', 'is', null)
        .where('expires_at', '>', at.toISOString())
        .executeTakeFirst();
      const row = await trx.selectFrom('account_credential_links').selectAll().where('token_sha256', '=', tokenSha256).executeTakeFirst();
      if (!row) return { state: 'unknown' } as const;
      if (Number(claimed.numUpdatedRows) !== 1 || row.sealed === null) {
        return row.redeemed_at !== null
          ? ({ state: 'used', link: toLink(row) } as const)
          : ({ state: 'expired', link: toLink(row) } as const);
      }
      await trx.updateTable('account_credential_links').set({ sealed: null, pending_sealed: null }).where('id', '=', row.id).execute();
      return { state: 'redeemed', link: toLink(row), sealed: row.sealed } as const;
    });
  }

  async saveMfaSecret(username: string, sealed: string, runId: string): Promise<void> {
    await this.store.ready();
    await this.store.db
      .insertInto('account_mfa_secrets')
      .values({ username, sealed, run_id: runId, enrolled_at: new Date().toISOString() })
      .onConflict((oc) => oc.column('username').doUpdateSet({ sealed, run_id: runId, enrolled_at: new Date().toISOString() }))
      .execute();
  }

  async mfaSecret(username: string): Promise<{ sealed: string; runId: string } | undefined> {
    await this.store.ready();
    const row = await this.store.db
      .selectFrom('account_mfa_secrets')
      .select(['sealed', 'run_id'])
      .where('username', '=', username)
      .executeTakeFirst();
    return row && { sealed: row.sealed, runId: row.run_id };
  }

  async deleteMfaSecret(username: string): Promise<boolean> {
    await this.store.ready();
    const result = await this.store.db.deleteFrom('account_mfa_secrets').where('username', '=', username).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}

function toLink(row: { id: string; run_id: string; username: string; expires_at: string; redeemed_at: string | null }): CredentialLinkRow {
  return { id: row.id, runId: row.run_id, username: row.username, expiresAt: row.expires_at, redeemedAt: row.redeemed_at };
}
