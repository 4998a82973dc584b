/**
 * A small JSON Schema checker for task evidence. Runbooks write the evidence form as a zod schema
 * and hand the workflow its JSON Schema (z.toJSONSchema); the Update validator checks evidence
 * with this plain code, so the check needs no zod at run time. It knows the keywords flat evidence
 * forms use; a form with any other keyword is refused when the task opens (unsupportedKeywords),
 * so no rule is silently ignored.
 */
export type JsonSchema = Record<string, unknown>;

export interface EvidenceIssue {
  /** Dotted field path inside the evidence, e.g. installedSerial. */
  path: string;
  message: string;
}

const ANNOTATIONS = new Set(['$schema', 'title', 'description', 'examples', 'default']);
const CHECKED = new Set([
  'type',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'minItems',
  'maxItems',
  'minLength',
  'maxLength',
  'pattern',
  'enum',
  'const',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'format',
]);
/** Formats checked; others are refused up front like unknown keywords. */
const FORMATS: Record<string, RegExp> = {
  'date-time': /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/,
  email: /^[^\s@]+@[^\s@]+\.[^\s@]+$/,
  uri: /^[A-Za-z][A-Za-z0-9+.-]*:\S+$/,
};

/** Keywords (with their paths) this checker would not enforce; a form using them is a runbook defect. */
export function unsupportedKeywords(schema: JsonSchema, at = ''): string[] {
  const found: string[] = [];
  for (const [key, value] of Object.entries(schema)) {
    if (ANNOTATIONS.has(key)) continue;
    if (!CHECKED.has(key) || (key === 'type' && typeof value !== 'string')) found.push(at ? `${at}.${key}` : key);
    else if (key === 'format' && !(String(value) in FORMATS)) found.push(`${at ? `${at}.` : ''}format ${String(value)}`);
    else if (key === 'properties') {
      for (const [name, sub] of Object.entries(value as Record<string, JsonSchema>)) {
        found.push(...unsupportedKeywords(sub, at ? `${at}.${name}` : name));
      }
    } else if ((key === 'items' || key === 'additionalProperties') && typeof value === 'object' && value !== null) {
      found.push(...unsupportedKeywords(value as JsonSchema, `${at}[${key}]`));
    }
  }
  return found;
}

/** Every way `value` breaks `schema`, each naming the field. */
export function checkEvidence(schema: JsonSchema, value: unknown, path: string[] = []): EvidenceIssue[] {
  const issue = (message: string, at = path): EvidenceIssue => ({ path: at.join('.'), message });
  if ('const' in schema && value !== schema.const) return [issue(`must be ${JSON.stringify(schema.const)}`)];
  if (Array.isArray(schema.enum) && !schema.enum.includes(value)) {
    return [issue(`must be one of ${schema.enum.map((v) => JSON.stringify(v)).join(', ')}`)];
  }
  const type = schema.type as string | undefined;
  if (type && !hasType(value, type)) return [issue(`must be ${article(type)}`)];
  const issues: EvidenceIssue[] = [];
  if (typeof value === 'string') {
    if (typeof schema.minLength === 'number' && value.length < schema.minLength) {
      issues.push(issue(schema.minLength === 1 ? 'must not be empty' : `must have at least ${schema.minLength} characters`));
    }
    if (typeof schema.maxLength === 'number' && value.length > schema.maxLength)
      issues.push(issue(`must have at most ${schema.maxLength} characters`));
    // A format says it better than the pattern zod emits beside it, so only one of them is reported.
    if (typeof schema.format === 'string' && FORMATS[schema.format] && !FORMATS[schema.format].test(value)) {
      issues.push(issue(`must be a ${schema.format}`));
    } else if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern).test(value))
      issues.push(issue(`must match ${schema.pattern}`));
  }
  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && value < schema.minimum) issues.push(issue(`must be at least ${schema.minimum}`));
    if (typeof schema.maximum === 'number' && value > schema.maximum) issues.push(issue(`must be at most ${schema.maximum}`));
    if (typeof schema.exclusiveMinimum === 'number' && value <= schema.exclusiveMinimum) {
      issues.push(issue(`must be more than ${schema.exclusiveMinimum}`));
    }
    if (typeof schema.exclusiveMaximum === 'number' && value >= schema.exclusiveMaximum) {
      issues.push(issue(`must be less than ${schema.exclusiveMaximum}`));
    }
  }
  if (Array.isArray(value)) {
    if (typeof schema.minItems === 'number' && value.length < schema.minItems)
      issues.push(issue(`must have at least ${schema.minItems} items`));
    if (typeof schema.maxItems === 'number' && value.length > schema.maxItems)
      issues.push(issue(`must have at most ${schema.maxItems} items`));
    if (schema.items && typeof schema.items === 'object') {
      value.forEach((item, i) => issues.push(...checkEvidence(schema.items as JsonSchema, item, [...path, String(i)])));
    }
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const record = value as Record<string, unknown>;
    const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
    for (const name of (schema.required ?? []) as string[]) {
      if (record[name] === undefined) issues.push(issue('is required', [...path, name]));
    }
    for (const [name, field] of Object.entries(record)) {
      if (field === undefined) continue;
      if (properties[name]) issues.push(...checkEvidence(properties[name], field, [...path, name]));
      else if (schema.additionalProperties === false) issues.push(issue('is not a field of this form', [...path, name]));
      else if (typeof schema.additionalProperties === 'object' && schema.additionalProperties !== null) {
        issues.push(...checkEvidence(schema.additionalProperties as JsonSchema, field, [...path, name]));
      }
    }
  }
  return issues;
}

function hasType(value: unknown, type: string): boolean {
  switch (type) {
    case 'object':
      return value !== null && typeof value === 'object' && !Array.isArray(value);
    case 'array':
      return Array.isArray(value);
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'null':
      return value === null;
    default:
      return typeof value === type;
  }
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}
