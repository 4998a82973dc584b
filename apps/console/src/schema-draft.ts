/**
 * The data side of the generated forms: a JSON Schema (the subset zod's toJSONSchema emits:
 * objects, strings, numbers, integers, booleans, enums, arrays, anyOf, defaults) read into a
 * draft (what the fields show) and a draft turned back into the JSON to send. No DOM here, so
 * it is unit-tested against the runbooks' own schemas (schema-draft.spec.ts).
 */
export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  description?: string;
  title?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxLength?: number;
}

/** What a field shows: text for scalars (and one line per item for lists of scalars). */
export type Draft = string | boolean | Draft[] | { [key: string]: Draft } | { variant: number; value: Draft };

export type Kind = 'object' | 'objects' | 'lines' | 'boolean' | 'enum' | 'number' | 'text' | 'choice';

export function variants(schema: JsonSchema): JsonSchema[] | undefined {
  return schema.anyOf ?? schema.oneOf;
}

export function kindOf(schema: JsonSchema): Kind {
  const options = variants(schema);
  if (options && options.some((o) => o.type === 'object')) return 'choice';
  if (schema.enum) return 'enum';
  if (schema.type === 'object' || schema.properties) return 'object';
  if (schema.type === 'array') return schema.items && kindOf(schema.items) === 'object' ? 'objects' : 'lines';
  if (schema.type === 'boolean') return 'boolean';
  if (schema.type === 'integer' || schema.type === 'number') return 'number';
  return 'text';
}

/** The draft a schema starts from: its default when it has one. */
export function initialDraft(schema: JsonSchema, value: unknown = schema.default): Draft {
  switch (kindOf(schema)) {
    case 'object': {
      const given = (value && typeof value === 'object' ? value : {}) as Record<string, unknown>;
      return Object.fromEntries(Object.entries(schema.properties ?? {}).map(([k, s]) => [k, initialDraft(s, given[k] ?? s.default)]));
    }
    case 'objects':
      return Array.isArray(value) ? value.map((v) => initialDraft(schema.items!, v)) : [];
    case 'lines':
      return Array.isArray(value) ? value.map(String).join('\n') : '';
    case 'boolean':
      return value === true;
    case 'choice': {
      const options = variants(schema)!;
      const keys = value && typeof value === 'object' ? Object.keys(value) : [];
      const found = options.findIndex((o) => keys.some((k) => o.properties?.[k]));
      const variant = found >= 0 ? found : 0;
      return { variant, value: initialDraft(options[variant], found >= 0 ? value : undefined) };
    }
    default:
      return value === undefined || value === null ? '' : String(value);
  }
}

function coerceScalar(schema: JsonSchema | undefined, text: string): unknown {
  const types = new Set([schema?.type, ...(variants(schema ?? {}) ?? []).map((o) => o.type)].flat());
  if ((types.has('integer') || types.has('number')) && /^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  if (types.has('boolean') && (text === 'true' || text === 'false')) return text === 'true';
  return text;
}

/**
 * The JSON a draft stands for. Empty optional fields are left out (the API applies its
 * defaults); text that is not a number is sent as typed so the API names the field.
 */
export function draftToValue(schema: JsonSchema, draft: Draft, required = true): unknown {
  switch (kindOf(schema)) {
    case 'object': {
      const d = draft as Record<string, Draft>;
      const out: Record<string, unknown> = {};
      for (const [key, sub] of Object.entries(schema.properties ?? {})) {
        const v = draftToValue(sub, d[key] ?? initialDraft(sub), schema.required?.includes(key) ?? false);
        if (v !== undefined) out[key] = v;
      }
      return Object.keys(out).length || required ? out : undefined;
    }
    case 'objects': {
      const items = (draft as Draft[]).map((item) => draftToValue(schema.items!, item, true));
      return items.length || required ? items : undefined;
    }
    case 'lines': {
      const lines = String(draft)
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean);
      return lines.length || required ? lines.map((l) => coerceScalar(schema.items, l)) : undefined;
    }
    case 'boolean':
      return draft === true ? true : required || schema.default === true ? false : undefined;
    case 'choice': {
      const { variant, value } = draft as { variant: number; value: Draft };
      return draftToValue(variants(schema)![variant], value, required);
    }
    default: {
      const text = String(draft).trim();
      if (text === '') return undefined;
      return kindOf(schema) === 'number' ? coerceScalar(schema, text) : text;
    }
  }
}

/** "passwordRef" → "Password ref" */
export function humanize(name: string): string {
  const words = name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/[-_]/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1).toLowerCase();
}

/** The DOM id of a field's control, from its API path (so an error summary can link to it). */
export function fieldId(path: string): string {
  return `field-${path.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

/** The paths a form shows issues for: the rest go to the form's summary. */
export function shownPaths(schema: JsonSchema, path: string, draft: Draft): string[] {
  const kind = kindOf(schema);
  if (kind === 'object') {
    const d = draft as Record<string, Draft>;
    return [path, ...Object.entries(schema.properties ?? {}).flatMap(([k, s]) => shownPaths(s, `${path}.${k}`, d[k] ?? initialDraft(s)))];
  }
  if (kind === 'objects') return [path, ...(draft as Draft[]).flatMap((item, i) => shownPaths(schema.items!, `${path}.${i}`, item))];
  if (kind === 'choice') {
    const { variant, value } = draft as { variant: number; value: Draft };
    return shownPaths(variants(schema)![variant], path, value);
  }
  if (kind === 'lines')
    return [
      path,
      ...String(draft)
        .split('\n')
        .map((_, i) => `${path}.${i}`),
    ];
  return [path];
}
