import { incidentCatalogSchema } from '@runbooks/contracts';
import { z } from 'zod';
import { errorBodySchema } from '../http/errors';
import { defineRoute } from '../http/route';

export const incidentCatalogReadSchema = incidentCatalogSchema.and(
  z.object({ updatedAt: z.string().nullable().meta({ description: 'When the catalogue was last written; null when it never was' }) }),
);
export type IncidentCatalogRead = z.infer<typeof incidentCatalogReadSchema>;

export const incidentCatalogReplacedSchema = z.object({
  services: z.number().int().nonnegative().meta({ description: 'How many services the catalogue now names' }),
  locations: z.number().int().nonnegative().meta({ description: 'How many locations the catalogue now names' }),
  updatedAt: z.string(),
});
export type IncidentCatalogReplaced = z.infer<typeof incidentCatalogReplacedSchema>;

const error = (description: string) => ({ description, schema: errorBodySchema });

export const incidentRoutes = {
  readCatalog: defineRoute({
    operationId: 'getIncidentCatalog',
    method: 'get',
    path: '/v1/incidents/catalog',
    summary: 'Read what the incident runbook knows of the estate',
    description:
      'Services (address, port, DNS name, URL, standby and the failover action that switches to it), locations (their ' +
      'users and the vantage point their probes run from), resolvers, network devices with their role, the rollbacks a ' +
      'responder may choose, log sources, and per severity the approvers, response SLA and approval wait. An ' +
      'incident-response launch may name only services and locations listed here. The ETag header is the catalogue ' +
      'version: send it back as If-Match on PUT.',
    tag: 'incidents',
    access: { anyRole: ['technician', 'tier1', 'tier2', 'tier3', 'admin'] },
    status: 200,
    responses: { 200: { description: 'The incident catalogue', schema: incidentCatalogReadSchema } },
  }),
  replaceCatalog: defineRoute({
    operationId: 'replaceIncidentCatalog',
    method: 'put',
    path: '/v1/incidents/catalog',
    summary: 'Replace the incident catalogue',
    description:
      'The whole catalogue, validated (unknown fields refused, unique names, a failover only with its standby) and written ' +
      'atomically. Its switch and rollback commands run on inventory hosts after an approval, so only admins write it. ' +
      'With If-Match (the ETag of GET), the write applies only if nobody changed it since (else 412).',
    tag: 'incidents',
    access: { anyRole: ['admin'] },
    body: incidentCatalogSchema,
    status: 200,
    responses: {
      200: { description: 'The catalogue was replaced', schema: incidentCatalogReplacedSchema },
      400: error('The catalogue is invalid; issues name each field'),
      412: error('If-Match names a version that is no longer the current one: read the catalogue again'),
    },
  }),
};
