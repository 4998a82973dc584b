import { API_ROUTES } from '../routes';
import { buildOpenApiDocument } from './openapi';

type Schema = Record<string, unknown>;

/**
 * Every part of every request the API takes, as the OpenAPI document describes it: each object
 * refuses unknown fields, each string is bounded and refuses control characters (a pattern) unless
 * it is one of a fixed set of values.
 */
function looseSpots(schema: unknown, where: string, found: string[] = []): string[] {
  if (typeof schema !== 'object' || schema === null) return found;
  const s = schema as Schema;
  const types = ([] as unknown[]).concat(s.type ?? []);
  if (types.includes('object') || s.properties) {
    // A map (z.record) types its values instead; only an object with no say accepts anything.
    if (s.additionalProperties === undefined || s.additionalProperties === true)
      found.push(`${where}: an object that accepts unknown fields`);
  }
  if (types.includes('string') && s.enum === undefined && s.const === undefined) {
    if (typeof s.maxLength !== 'number' && !boundedPattern(s.pattern)) found.push(`${where}: a string without maxLength`);
    if (typeof s.pattern !== 'string') found.push(`${where}: a string without a pattern`);
  }
  for (const [key, value] of Object.entries(s)) {
    if (key === 'properties' || key === '$defs') {
      for (const [name, sub] of Object.entries(value as Schema)) looseSpots(sub, `${where}.${name}`, found);
    } else if (Array.isArray(value)) {
      value.forEach((sub, i) => looseSpots(sub, `${where}.${key}[${i}]`, found));
    } else if (typeof value === 'object' && value !== null && key !== 'const' && key !== 'default' && key !== 'examples') {
      looseSpots(value, `${where}.${key}`, found);
    }
  }
  return found;
}

/** An anchored pattern with no unbounded repetition bounds the length by itself (e.g. ^[a-z]{1,63}$). */
function boundedPattern(pattern: unknown): boolean {
  if (typeof pattern !== 'string' || !pattern.startsWith('^') || !pattern.endsWith('$')) return false;
  const outsideClasses = pattern.replace(/\\./g, 'x').replace(/\[[^\]]*\]/g, 'x');
  return !/[*+]|\{\d+,\}/.test(outsideClasses);
}

describe('the OpenAPI document of every request', () => {
  const document = buildOpenApiDocument(API_ROUTES, 'test');

  it('refuses unknown fields and bounds every string, in every path parameter, query and body', () => {
    const found: string[] = [];
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(operations as Record<string, Schema>)) {
        const op = `${method.toUpperCase()} ${path}`;
        for (const parameter of (operation.parameters ?? []) as Schema[])
          looseSpots(parameter.schema, `${op} ${String(parameter.name)}`, found);
        const body = (operation.requestBody as { content: Record<string, { schema: unknown }> } | undefined)?.content['application/json'];
        if (body) looseSpots(body.schema, `${op} body`, found);
      }
    }
    expect(found).toEqual([]);
  });
});
