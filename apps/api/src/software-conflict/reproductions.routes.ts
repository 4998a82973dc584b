import { conflictReproductionCatalogSchema, conflictReproductionSchema } from '@runbooks/contracts';
import { z } from 'zod';
import { errorBodySchema } from '../http/errors';
import { defineRoute } from '../http/route';

export const reproductionCatalogReadSchema = z.object({
  reproductions: z.array(
    conflictReproductionSchema.extend({
      revision: z.number().int().positive().meta({ description: 'The catalogue version that last changed this entry (runs report it)' }),
    }),
  ),
  updatedAt: z.string().nullable().meta({ description: 'When the catalogue was last written; null when it never was' }),
});
export type ReproductionCatalogRead = z.infer<typeof reproductionCatalogReadSchema>;

export const reproductionCatalogReplacedSchema = z.object({
  reproductions: z.number().int().nonnegative().meta({ description: 'How many reproductions the catalogue now holds' }),
  updatedAt: z.string(),
});
export type ReproductionCatalogReplaced = z.infer<typeof reproductionCatalogReplacedSchema>;

const error = (description: string) => ({ description, schema: errorBodySchema });

export const reproductionRoutes = {
  readCatalog: defineRoute({
    operationId: 'getConflictReproductions',
    method: 'get',
    path: '/v1/software-conflict/reproductions',
    summary: 'Read the reproductions a software-conflict run may name',
    description:
      'Each reproduction: its name (what `input.reproduction` of a software-conflict launch names), what it checks, the bash ' +
      'command (exit 0: the problem does not show; `$RUNBOOK_ROOT` is the package root it runs against) and, optionally, the ' +
      'hosts it applies to. The ETag header is the catalogue version: send it back as If-Match on PUT.',
    tag: 'software-conflict',
    access: { anyRole: ['technician'] },
    status: 200,
    responses: { 200: { description: 'The reproduction catalogue', schema: reproductionCatalogReadSchema } },
  }),
  replaceCatalog: defineRoute({
    operationId: 'replaceConflictReproductions',
    method: 'put',
    path: '/v1/software-conflict/reproductions',
    summary: 'Replace the reproduction catalogue',
    description:
      'The whole catalogue, validated (unknown fields refused, unique names) and written atomically. Its commands run as root ' +
      'on inventory hosts and in their sandboxes before any approval, so only admins write it; a run resolves its name again ' +
      'just before each run of the command. With If-Match (the ETag of GET), the write applies only if nobody changed it ' +
      'since (else 412).',
    tag: 'software-conflict',
    access: { anyRole: ['admin'] },
    body: conflictReproductionCatalogSchema,
    status: 200,
    responses: {
      200: { description: 'The catalogue was replaced', schema: reproductionCatalogReplacedSchema },
      400: error('The catalogue is invalid; issues name each field'),
      412: error('If-Match names a version that is no longer the current one: read the catalogue again'),
    },
  }),
};
