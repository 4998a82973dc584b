import { principalSchema, roleSchema, singleLine } from '@runbooks/contracts';
import { z } from 'zod';
import { errorBodySchema } from '../http/errors';
import { defineRoute } from '../http/route';

const principalIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'must be lowercase letters, digits, ".", "_" and "-" (at most 63)');

export const createTokenBodySchema = z
  .object({
    principalId: principalIdSchema,
    label: singleLine(200).min(1).meta({ description: 'What the token is for (shown in listings and the audit log)' }),
    principal: z
      .object({ displayName: singleLine(200).min(1), roles: z.array(roleSchema).min(1) })
      .strict()
      .optional()
      .meta({ description: 'Creates the principal, or replaces its name and roles; required for a principal the API does not know' }),
  })
  .strict();

export const tokenSchema = z.object({
  id: z.string(),
  principalId: z.string(),
  label: z.string(),
  createdAt: z.string(),
  createdBy: z.string(),
  revokedAt: z.string().nullable(),
  revokedBy: z.string().nullable(),
});
export const createdTokenSchema = tokenSchema.extend({
  token: z.string().meta({ description: 'The bearer token: shown this once, never stored (only its sha256 is)' }),
  principal: principalSchema,
});
export const tokenListSchema = z.object({ tokens: z.array(tokenSchema) });
export const listTokensQuerySchema = z.object({ principalId: principalIdSchema.optional() }).strict();
export const tokenParamsSchema = z.object({ id: z.uuid() });

const error = (description: string) => ({ description, schema: errorBodySchema });
const admin = { anyRole: ['admin'] } as const;

export const tokenRoutes = {
  create: defineRoute({
    operationId: 'createToken',
    method: 'post',
    path: '/v1/admin/tokens',
    summary: 'Create a bearer token',
    description:
      'Creates a token for a principal (creating the principal, or changing its roles, when `principal` is given). ' +
      'The token is in this answer only: keep it; the API keeps its sha256. ' +
      'A `principal` for the caller must keep the admin role (409 otherwise: another admin must take it).',
    tag: 'admin',
    access: admin,
    body: createTokenBodySchema,
    status: 201,
    responses: {
      201: { description: 'The token, shown once', schema: createdTokenSchema },
      400: error('Invalid body, or an unknown principal without `principal`'),
      409: error('The caller would take the admin role from themselves'),
    },
  }),
  list: defineRoute({
    operationId: 'listTokens',
    method: 'get',
    path: '/v1/admin/tokens',
    summary: 'List bearer tokens',
    description: 'Every token (never the token itself), revoked ones too, oldest first.',
    tag: 'admin',
    access: admin,
    query: listTokensQuerySchema,
    status: 200,
    responses: { 200: { description: 'The tokens', schema: tokenListSchema } },
  }),
  revoke: defineRoute({
    operationId: 'revokeToken',
    method: 'delete',
    path: '/v1/admin/tokens/:id',
    summary: 'Revoke a bearer token',
    description:
      'Every API replica refuses the token from its next request on (tokens are checked against the store on every request). ' +
      'Revoking a revoked token changes nothing. The token that authenticates the request itself is refused (409): revoke it with another.',
    tag: 'admin',
    access: admin,
    params: tokenParamsSchema,
    status: 200,
    responses: {
      200: { description: 'The token, revoked', schema: tokenSchema },
      404: error('No such token'),
      409: error('The token authenticates this request'),
    },
  }),
} as const;
