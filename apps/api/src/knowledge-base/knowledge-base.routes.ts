import { knowledgeBaseArticleSchema, knowledgeBaseIdSchema, knowledgeBaseSearchSchema } from '@runbooks/contracts';
import { z } from 'zod';
import { errorBodySchema } from '../http/errors';
import { defineRoute } from '../http/route';

const error = (description: string) => ({ description, schema: errorBodySchema });

export const knowledgeBaseRoutes = {
  search: defineRoute({
    operationId: 'searchKnowledgeBase',
    method: 'get',
    path: '/v1/kb',
    summary: 'Search the knowledge base',
    description:
      'Articles that runs wrote (software conflicts: symptom, cause, fix, commands, hosts), newest first. ' +
      'An article matches when every word of `q` appears in it, case-insensitive.',
    tag: 'knowledge-base',
    access: 'authenticated',
    query: knowledgeBaseSearchSchema,
    status: 200,
    responses: {
      200: { description: 'The matching articles', schema: z.object({ articles: z.array(knowledgeBaseArticleSchema) }) },
      400: error('No words to search for, or a bad limit'),
    },
  }),
  get: defineRoute({
    operationId: 'getKnowledgeBaseArticle',
    method: 'get',
    path: '/v1/kb/:id',
    summary: 'Read a knowledge-base article',
    description: 'One article by its id, as search results and run reports (outcome `knowledgeBaseArticle`) name it.',
    tag: 'knowledge-base',
    access: 'authenticated',
    params: z.object({ id: knowledgeBaseIdSchema }).strict(),
    status: 200,
    responses: {
      200: { description: 'The article', schema: knowledgeBaseArticleSchema },
      400: error('Not an article id'),
      404: error('No such article'),
    },
  }),
} as const;
