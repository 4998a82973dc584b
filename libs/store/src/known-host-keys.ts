import type { Kysely } from 'kysely';
import type { StoreTables } from './schema';

/**
 * SSH host keys trusted on first use, shared by every worker: the first key any worker saw for a
 * host is the one all of them accept later, whatever machine they run on.
 */
export class KnownHostKeyRepository {
  constructor(
    private readonly db: Kysely<StoreTables>,
    private readonly ready: () => Promise<void>,
  ) {}

  /** The fingerprint (sha256, base64 without padding) first seen for `host`, if any. */
  async get(host: string): Promise<string | undefined> {
    await this.ready();
    const row = await this.db.selectFrom('ssh_known_hosts').select('sha256').where('host', '=', host).executeTakeFirst();
    return row?.sha256;
  }

  /**
   * Remembers `sha256` for `host` unless a key is already remembered (a unique insert, so two
   * workers connecting first at the same moment agree on one); resolves with the remembered key.
   */
  async remember(host: string, sha256: string): Promise<string> {
    await this.ready();
    await this.db
      .insertInto('ssh_known_hosts')
      .values({ host, sha256, first_seen_at: new Date().toISOString() })
      .onConflict((oc) => oc.column('host').doNothing())
      .execute();
    return (await this.get(host)) as string;
  }
}
