import { Controller, NotFoundException } from '@nestjs/common';
import type { KnowledgeBaseArticle } from '@runbooks/contracts';
import { Store, type KnowledgeBaseRow } from '@runbooks/store';
import { ApiRoute, Valid, type ParamsOf, type QueryOf } from '../http/route';
import { knowledgeBaseRoutes } from './knowledge-base.routes';

@Controller()
export class KnowledgeBaseController {
  constructor(private readonly store: Store) {}

  @ApiRoute(knowledgeBaseRoutes.search)
  async search(@Valid('query') { q, limit }: QueryOf<typeof knowledgeBaseRoutes.search>): Promise<{ articles: KnowledgeBaseArticle[] }> {
    return { articles: (await this.store.knowledgeBase.search(q, limit)).map(article) };
  }

  @ApiRoute(knowledgeBaseRoutes.get)
  async get(@Valid('params') { id }: ParamsOf<typeof knowledgeBaseRoutes.get>): Promise<KnowledgeBaseArticle> {
    const row = await this.store.knowledgeBase.get(id);
    if (!row) throw new NotFoundException(`no knowledge-base article ${id}`);
    return article(row);
  }
}

function article(row: KnowledgeBaseRow): KnowledgeBaseArticle {
  return { ...(JSON.parse(row.body) as Omit<KnowledgeBaseArticle, 'createdAt'>), id: row.id, createdAt: row.createdAt };
}
