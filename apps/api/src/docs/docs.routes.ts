import { z } from 'zod';
import { defineRoute } from '../http/route';

export const docsRoutes = {
  openapi: defineRoute({
    operationId: 'getOpenApiDocument',
    method: 'get',
    path: '/openapi.json',
    summary: 'The OpenAPI 3.1 document of this API',
    description: 'Generated from the zod schemas the API validates with. A browsable form is served at /docs.',
    tag: 'docs',
    access: 'public',
    status: 200,
    responses: { 200: { description: 'The document', schema: z.record(z.string(), z.unknown()) } },
  }),
};
