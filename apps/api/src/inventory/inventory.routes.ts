import { hostSchema, inventorySchema } from '@runbooks/contracts';
import { z } from 'zod';
import { errorBodySchema } from '../http/errors';
import { defineRoute } from '../http/route';

/** The largest page of hosts GET /v1/inventory returns. */
export const MAX_INVENTORY_PAGE = 1000;

/** A `nextPageToken` this API issued (opaque, base64url). */
export const pageTokenSchema = z
  .string()
  .max(512)
  .regex(/^[A-Za-z0-9_-]+$/, 'must be a nextPageToken from a previous page');

export const listInventoryQuerySchema = z
  .object({
    tag: z
      .string()
      .max(63)
      .regex(/^[a-z0-9][a-z0-9_.:-]{0,62}$/, 'must be a tag: lowercase letters, digits and _.:-')
      .optional()
      .meta({ description: 'Only hosts carrying this tag' }),
    name: z
      .string()
      .max(253)
      .regex(/^[A-Za-z0-9.-]{1,253}$/, 'must be part of a host name: letters, digits, dots and dashes')
      .optional()
      .meta({ description: 'Only hosts whose name contains this text (case-insensitive)' }),
    pageSize: z.coerce.number().int().min(1).max(MAX_INVENTORY_PAGE).default(MAX_INVENTORY_PAGE),
    pageToken: pageTokenSchema.optional(),
  })
  .strict();
export type ListInventoryQuery = z.output<typeof listInventoryQuerySchema>;

export const inventoryPageSchema = z.object({
  hosts: z.array(hostSchema),
  /** How many hosts match the filters, over all pages. */
  total: z.number().int().nonnegative(),
  nextPageToken: z.string().nullable(),
  updatedAt: z.string().nullable().meta({ description: 'When the inventory was last written; null when it never was' }),
});
export type InventoryPage = z.infer<typeof inventoryPageSchema>;

export const inventoryReplacedSchema = z.object({
  hosts: z.number().int().nonnegative().meta({ description: 'How many hosts the inventory now holds' }),
  updatedAt: z.string(),
});
export type InventoryReplaced = z.infer<typeof inventoryReplacedSchema>;

const error = (description: string) => ({ description, schema: errorBodySchema });

export const inventoryRoutes = {
  list: defineRoute({
    operationId: 'listInventory',
    method: 'get',
    path: '/v1/inventory',
    summary: 'List the host inventory',
    description:
      'The hosts runbooks can target, in inventory order, optionally filtered by tag and name. SSH keys appear only as ' +
      'secret references. Pages hold up to 1000 hosts; a nextPageToken is bound to its filters and to the inventory ' +
      'version it was issued for (a PUT in between makes it a 409: start again). The ETag header is the inventory version: ' +
      'send it back as If-Match on PUT.',
    tag: 'inventory',
    access: 'authenticated',
    query: listInventoryQuerySchema,
    status: 200,
    responses: {
      200: { description: 'One page of hosts', schema: inventoryPageSchema },
      400: error('A filter or the page token is invalid'),
      409: error('The inventory changed since the page token was issued'),
    },
  }),
  replace: defineRoute({
    operationId: 'replaceInventory',
    method: 'put',
    path: '/v1/inventory',
    summary: 'Replace the host inventory',
    description:
      'The whole inventory, validated (issues name each field, e.g. hosts.3.ssh; host names must be unique; SSH keys are ' +
      'secret references such as env:NAME or file:/path, never the key itself) and written atomically: readers see the old ' +
      'inventory or the new one, never a mix. Runs already past their build-inventory step keep the hosts they resolved. ' +
      'With If-Match (the ETag of GET), the write applies only if nobody changed the inventory since (else 412); ' +
      'without it, it applies unconditionally. The response carries the new ETag.',
    tag: 'inventory',
    access: { anyRole: ['admin'] },
    body: inventorySchema,
    status: 200,
    responses: {
      200: { description: 'The inventory was replaced', schema: inventoryReplacedSchema },
      400: error('The inventory is invalid; issues name each field'),
      412: error('If-Match names a version that is no longer the current one: read the inventory again'),
      413: error('The body is larger than the inventory limit'),
    },
  }),
};
