import type { Kysely } from 'kysely';
import type { StoreTables } from './schema';

/**
 * Mail the workers have handed to a relay, by a key stable across an activity's retries: a retry
 * on any worker finds the first send here and does not send again.
 */
export class SentMailRepository {
  constructor(
    private readonly db: Kysely<StoreTables>,
    private readonly ready: () => Promise<void>,
  ) {}

  /** The Message-ID the mail with `key` was sent with, if it was. */
  async find(key: string): Promise<string | undefined> {
    await this.ready();
    const row = await this.db.selectFrom('sent_mail').select('message_id').where('key', '=', key).executeTakeFirst();
    return row?.message_id;
  }

  /** Records the mail with `key` as sent (the first record stays). */
  async record(key: string, messageId: string): Promise<void> {
    await this.ready();
    await this.db
      .insertInto('sent_mail')
      .values({ key, message_id: messageId, sent_at: new Date().toISOString() })
      .onConflict((oc) => oc.column('key').doNothing())
      .execute();
  }
}
