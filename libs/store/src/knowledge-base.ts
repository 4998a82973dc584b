import { sql, type Kysely } from 'kysely';
import type { StoreTables } from './schema';

/** An article as the store keeps it: the search text is derived, the body is the article's JSON. */
export interface KnowledgeBaseRow {
  id: string;
  runId: string;
  createdAt: string;
  title: string;
  body: string;
}

/**
 * Knowledge-base articles that runs write (software conflicts: symptom, cause, fix, commands,
 * hosts), searched by words. Search is a lowercase LIKE over one derived text column, which
 * SQLite and PostgreSQL both answer the same way; enough for a support team's articles.
 */
export class KnowledgeBaseRepository {
  constructor(
    private readonly db: Kysely<StoreTables>,
    private readonly ready: () => Promise<void>,
  ) {}

  /** Stores an article; a retried write of the same id (the same run) replaces it. */
  async put(article: Omit<KnowledgeBaseRow, 'createdAt'> & { searchText: string }): Promise<KnowledgeBaseRow> {
    await this.ready();
    const createdAt = new Date().toISOString();
    const row = {
      id: article.id,
      run_id: article.runId,
      created_at: createdAt,
      title: article.title,
      search_text: article.searchText.toLowerCase(),
      body: article.body,
    };
    await this.db
      .insertInto('knowledge_base_articles')
      .values(row)
      .onConflict((oc) => oc.column('id').doUpdateSet({ title: row.title, search_text: row.search_text, body: row.body }))
      .execute();
    return (await this.get(article.id)) as KnowledgeBaseRow;
  }

  async get(id: string): Promise<KnowledgeBaseRow | undefined> {
    await this.ready();
    const row = await this.db.selectFrom('knowledge_base_articles').selectAll().where('id', '=', id).executeTakeFirst();
    return row && { id: row.id, runId: row.run_id, createdAt: row.created_at, title: row.title, body: row.body };
  }

  /** The articles holding every word of `query` (case-insensitive), newest first. */
  async search(query: string, limit: number): Promise<KnowledgeBaseRow[]> {
    await this.ready();
    const words = query.toLowerCase().split(/\s+/).filter(Boolean);
    let q = this.db.selectFrom('knowledge_base_articles').selectAll();
    for (const word of words) {
      // The word is matched literally: LIKE's wildcards in it are escaped.
      const pattern = `%${word.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      q = q.where(sql<boolean>`search_text like ${pattern} escape '\\'`);
    }
    const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
    return rows.map((row) => ({ id: row.id, runId: row.run_id, createdAt: row.created_at, title: row.title, body: row.body }));
  }
}
