import { RUNBOOKS, type RunbookDefinition } from '@runbooks/contracts';
import { z } from 'zod';
import { errorBodySchema } from '../http/errors';
import { defineRoute } from '../http/route';

export const runbookNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,99}$/, 'must be a runbook name (lowercase letters, digits and dashes)');

export const runbookSummarySchema = z.object({
  name: z.string(),
  title: z.string(),
  summary: z.string(),
  workflowType: z.string(),
  steps: z.array(z.object({ id: z.string(), title: z.string() })),
  inputSchema: z.record(z.string(), z.unknown()).meta({ description: 'JSON Schema (draft 2020-12) of the runbook input' }),
});
export type RunbookSummary = z.infer<typeof runbookSummarySchema>;

/** What the catalog shows of a runbook; the input schema is the zod schema the API validates with. */
export function describeRunbook(def: RunbookDefinition): RunbookSummary {
  return {
    name: def.name,
    title: def.title,
    summary: def.summary,
    workflowType: def.workflowType,
    steps: def.steps.map((s) => ({ id: s.id, title: s.title })),
    inputSchema: runbookInputJsonSchema(def),
  };
}

export function unknownRunbookMessage(name: string): string {
  return `runbook "${name}" is not in the catalog (known: ${RUNBOOKS.map((r) => r.name).join(', ')})`;
}

/**
 * A schema per runbook, as one union discriminated on `runbook`: what the OpenAPI document shows
 * for bodies that carry a runbook's input, so clients (and fuzzers) know each input's shape.
 */
export function runbookUnion(build: (def: RunbookDefinition) => z.ZodObject): z.ZodDiscriminatedUnion {
  const [first, ...rest] = RUNBOOKS.map(build);
  return z.discriminatedUnion('runbook', [first, ...rest]);
}

export function runbookInputJsonSchema(def: RunbookDefinition): Record<string, unknown> {
  return z.toJSONSchema(def.inputSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}

export const catalogRoutes = {
  list: defineRoute({
    operationId: 'listRunbooks',
    method: 'get',
    path: '/v1/runbooks',
    summary: 'List the runbooks',
    tag: 'catalog',
    access: 'authenticated',
    status: 200,
    responses: { 200: { description: 'The catalog', schema: z.object({ runbooks: z.array(runbookSummarySchema) }) } },
  }),
  get: defineRoute({
    operationId: 'getRunbook',
    method: 'get',
    path: '/v1/runbooks/:name',
    summary: 'Describe a runbook',
    description: `Known runbooks: ${RUNBOOKS.map((r) => r.name).join(', ')}.`,
    tag: 'catalog',
    access: 'authenticated',
    params: z.object({ name: runbookNameSchema }),
    status: 200,
    responses: {
      200: { description: 'The runbook, its steps and its input schema', schema: runbookSummarySchema },
      404: { description: 'No such runbook', schema: errorBodySchema },
    },
  }),
};
