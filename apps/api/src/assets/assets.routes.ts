import { assetSchema, assetTagSchema, assetWriteSchema, hostNameSchema } from '@runbooks/contracts';
import { z } from 'zod';
import { errorBodySchema } from '../http/errors';
import { defineRoute } from '../http/route';

export const assetRecordSchema = assetSchema.extend({
  version: z.number().int().positive().meta({ description: 'The asset’s version; the ETag of GET /v1/assets/{tag}' }),
  updatedAt: z.string(),
});

const error = (description: string) => ({ description, schema: errorBodySchema });
const tagParams = z.object({ tag: assetTagSchema }).strict();

export const assetRoutes = {
  list: defineRoute({
    operationId: 'listAssets',
    method: 'get',
    path: '/v1/assets',
    summary: 'List the asset register',
    description:
      'Every asset (a component of a host: its part, serial, and the part models that may replace it), by tag; with ' +
      '`host`, only that host’s. Hardware swaps check the technician’s part against `compatibleModels` and record each ' +
      'swap in `swaps`.',
    tag: 'assets',
    access: 'authenticated',
    query: z.object({ host: hostNameSchema.optional().meta({ description: 'Only the assets in this host' }) }).strict(),
    status: 200,
    responses: {
      200: { description: 'The assets', schema: z.object({ assets: z.array(assetRecordSchema) }) },
      400: error('An unknown or malformed query parameter'),
    },
  }),
  get: defineRoute({
    operationId: 'getAsset',
    method: 'get',
    path: '/v1/assets/:tag',
    summary: 'Read one asset',
    description: 'One asset with its swaps. The ETag header is its version: send it back as If-Match on PUT.',
    tag: 'assets',
    access: 'authenticated',
    params: tagParams,
    status: 200,
    responses: {
      200: { description: 'The asset', schema: assetRecordSchema },
      400: error('The tag is not an asset tag'),
      404: error('No asset has this tag'),
    },
  }),
  put: defineRoute({
    operationId: 'putAsset',
    method: 'put',
    path: '/v1/assets/:tag',
    summary: 'Create or replace one asset',
    description:
      'The asset’s host, component, part (model and serial) and the part models that may replace it (unknown fields ' +
      'refused). The swaps runs recorded stay. With If-Match (the ETag of GET; "0" to create only), the write applies ' +
      'only if nobody changed the asset since (else 412); without it, it applies unconditionally.',
    tag: 'assets',
    access: { anyRole: ['technician', 'admin'] },
    params: tagParams,
    body: assetWriteSchema,
    status: 200,
    responses: {
      200: { description: 'The asset as written', schema: assetRecordSchema },
      400: error('The asset is invalid; issues name each field'),
      412: error('If-Match names a version that is no longer the asset’s: read it again'),
    },
  }),
};
