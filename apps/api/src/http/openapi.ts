import { z } from 'zod';
import { errorBodySchema } from './errors';
import type { RouteDefinition, RouteResponse } from './route';

type JsonSchema = Record<string, unknown>;

export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; description: string };
  tags: { name: string; description: string }[];
  paths: Record<string, Record<string, unknown>>;
  components: Record<string, unknown>;
  security: Record<string, string[]>[];
}

const TAGS: Record<string, string> = {
  health: 'Liveness and readiness (no authentication)',
  catalog: 'The runbooks that can be launched',
  runs: 'Launch, follow, report on and cancel runs',
  approvals: 'Approval gates waiting for a decision',
  tasks: 'Human tasks: claim, complete with evidence, release, reassign; SLA escalation through the support tiers',
  rollouts: 'Steer a running fleet rollout: pause, resume, concurrency, skip a host, abort',
  inventory: 'The hosts runbooks can target',
  policy: 'What runbooks may act on: the folders restores may write into',
  incidents: 'What the incident runbook knows of the estate: services, standbys, locations, resolvers, devices, severities',
  assets: 'The asset register: each host’s components, their parts and the parts compatible with them',
  schedules: 'Run runbooks on a calendar (Temporal Schedules): create, change, pause, trigger, backfill',
  maintenance: 'Maintenance windows and change freezes that hold patching runs',
  integrations: 'Chat integrations: Slack approval buttons (signed requests, no bearer token)',
  accounts: 'Account runbooks: one-time credential links (no login: the token is the key)',
  codec: 'The codec server: decrypt and encrypt Temporal payloads for the Temporal UI and CLI',
  'knowledge-base': 'Knowledge-base articles runs wrote (software conflicts): search and read',
  'software-conflict': 'The reproductions a software-conflict run may name, written by admins',
  docs: 'This document',
};

/** OpenAPI 3.1 from the route registry: the same zod schemas the controllers validate with. */
export function buildOpenApiDocument(routes: readonly RouteDefinition[], version: string): OpenApiDocument {
  const paths: OpenApiDocument['paths'] = {};
  for (const route of routes) {
    const path = route.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    paths[path] = { ...paths[path], [route.method]: operation(route) };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Runbooks API',
      version,
      description:
        'Launch IT runbooks (durable Temporal workflows), follow them, decide their approvals and read their reports. ' +
        'Authenticate with `Authorization: Bearer <token>`. Roles: technician (launch, cancel), approver (decide approvals), ' +
        'scheduler (schedules), admin (everything); any authenticated principal may view. The browsable form of this document is at /docs.',
    },
    tags: [...new Set(routes.map((r) => r.tag))].map((name) => ({ name, description: TAGS[name] ?? name })),
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'A token from the principals file' } },
    },
    security: [{ bearer: [] }],
  };
}

function operation(route: RouteDefinition): Record<string, unknown> {
  const responses: Record<string, unknown> = {};
  const declared: Record<number, RouteResponse> = { ...route.responses };
  const error = (description: string): RouteResponse => ({ description, schema: errorBodySchema });
  if ((route.params || route.query || route.body) && !declared[400]) declared[400] = error('Invalid request; issues name each field');
  // The JSON parser refuses a body over its size limit before any route sees it.
  if (route.body) declared[413] ??= error('The body is larger than the API accepts');
  if (route.access !== 'public') {
    declared[401] ??= error('Missing or unknown bearer token');
    if (route.access !== 'authenticated') declared[403] ??= error('The caller lacks the role');
  }
  for (const [status, response] of Object.entries(declared).sort(([a], [b]) => Number(a) - Number(b))) {
    const content: Record<string, unknown> = {};
    if (response.schema) content['application/json'] = { schema: jsonSchema(response.schema, 'output') };
    Object.assign(content, response.content);
    responses[status] = {
      description: response.description,
      ...(response.headers ? { headers: response.headers } : {}),
      ...(Object.keys(content).length > 0 ? { content } : {}),
    };
  }
  const roles =
    route.access === 'public'
      ? 'No authentication.'
      : route.access === 'authenticated'
        ? 'Any authenticated principal.'
        : `Roles: ${[...new Set([...route.access.anyRole, 'admin'])].join(' or ')}.`;
  return {
    operationId: route.operationId,
    summary: route.summary,
    description: [route.description, roles].filter(Boolean).join('\n\n'),
    tags: [route.tag],
    'x-access': route.access,
    ...(route.access === 'public' ? { security: [] } : {}),
    parameters: [...parameters(route.params, 'path'), ...parameters(route.query, 'query')],
    ...(route.body
      ? {
          requestBody: {
            required: true,
            content: { 'application/json': { schema: jsonSchema(route.documentedBody ?? route.body, 'input') } },
          },
        }
      : {}),
    responses,
  };
}

function parameters(schema: z.ZodObject | undefined, where: 'path' | 'query'): JsonSchema[] {
  if (!schema) return [];
  const object = jsonSchema(schema, 'input');
  const properties = (object.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((object.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => {
    const { description, ...rest } = property;
    return {
      name,
      in: where,
      required: where === 'path' || required.has(name),
      ...(description ? { description } : {}),
      schema: rest,
    };
  });
}

export function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const generated = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  delete generated.$schema; // the document declares the dialect once
  return generated;
}
