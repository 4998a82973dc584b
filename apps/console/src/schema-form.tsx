/**
 * A form generated from a JSON Schema (the subset zod's toJSONSchema emits: objects, strings,
 * numbers, integers, booleans, enums, arrays, anyOf, defaults). It is generic on purpose: the
 * launch form renders a runbook's input schema with it, and a human task's evidence schema
 * renders the same way. The form holds a draft (what the fields show); `draftToValue` turns it
 * into the JSON to send, and the API's 400 issues (paths like `input.repository.url`) are shown
 * next to the field of that path.
 */
import type { Issue } from './api';

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

type Kind = 'object' | 'objects' | 'lines' | 'boolean' | 'enum' | 'number' | 'text' | 'choice';

function variants(schema: JsonSchema): JsonSchema[] | undefined {
  return schema.anyOf ?? schema.oneOf;
}

function kindOf(schema: JsonSchema): Kind {
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

interface FieldProps {
  schema: JsonSchema;
  name: string;
  path: string;
  draft: Draft;
  required: boolean;
  issues: Issue[];
  onChange: (draft: Draft) => void;
}

/** Issues of exactly this field (lists of scalars also take their items' issues, `x.3`). */
function issuesFor(issues: Issue[], path: string, includeItems: boolean): Issue[] {
  return issues.filter(
    (i) => i.path === path || (includeItems && i.path.startsWith(`${path}.`) && /^\d+$/.test(i.path.slice(path.length + 1))),
  );
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

function Messages({ id, issues }: { id: string; issues: Issue[] }) {
  if (!issues.length) return null;
  return (
    <ul class="field-errors" id={id}>
      {issues.map((i) => (
        <li key={i.path + i.message}>{i.message}</li>
      ))}
    </ul>
  );
}

export function SchemaField({ schema, name, path, draft, required, issues, onChange }: FieldProps) {
  const kind = kindOf(schema);
  const id = fieldId(path);
  const label = schema.title ?? humanize(name);
  const own = issuesFor(issues, path, kind === 'lines');
  const errorId = `${id}-errors`;
  const hintId = `${id}-hint`;
  const describedBy = [own.length ? errorId : '', hintId].filter(Boolean).join(' ');
  const hint = (extra?: string) => (
    <p class="hint" id={hintId}>
      <code>{path}</code>
      {schema.description ? ` — ${schema.description}` : ''}
      {extra ? ` — ${extra}` : ''}
    </p>
  );

  if (kind === 'object') {
    const d = draft as Record<string, Draft>;
    return (
      <fieldset class="group" id={id}>
        <legend>
          {label}
          {required ? ' (required)' : ''}
        </legend>
        <Messages id={errorId} issues={own} />
        {Object.entries(schema.properties ?? {}).map(([key, sub]) => (
          <SchemaField
            key={key}
            schema={sub}
            name={key}
            path={`${path}.${key}`}
            draft={d[key] ?? initialDraft(sub)}
            required={schema.required?.includes(key) ?? false}
            issues={issues}
            onChange={(next) => onChange({ ...d, [key]: next })}
          />
        ))}
      </fieldset>
    );
  }

  if (kind === 'objects') {
    const items = draft as Draft[];
    return (
      <fieldset class="group" id={id}>
        <legend>
          {label}
          {required ? ' (required)' : ''}
        </legend>
        <Messages id={errorId} issues={own} />
        {items.map((item, i) => (
          <div class="list-item" key={i}>
            <SchemaField
              schema={schema.items!}
              name={`${label} ${i + 1}`}
              path={`${path}.${i}`}
              draft={item}
              required
              issues={issues}
              onChange={(next) => onChange(items.map((old, j) => (j === i ? next : old)))}
            />
            <button type="button" class="secondary" onClick={() => onChange(items.filter((_, j) => j !== i))}>
              Remove {label.toLowerCase()} {i + 1}
            </button>
          </div>
        ))}
        <button type="button" class="secondary" onClick={() => onChange([...items, initialDraft(schema.items!, undefined)])}>
          Add {label.toLowerCase()}
        </button>
      </fieldset>
    );
  }

  if (kind === 'choice') {
    const options = variants(schema)!;
    const { variant, value } = draft as { variant: number; value: Draft };
    const optionLabel = (o: JsonSchema, i: number) =>
      o.title ?? (o.required?.length ? o.required.map(humanize).join(', ') : `Option ${i + 1}`);
    return (
      <fieldset class="group" id={id}>
        <legend>{label}</legend>
        <Messages id={errorId} issues={own} />
        <div class="choices" role="radiogroup" aria-label={`${label}: kind`}>
          {options.map((o, i) => (
            <label key={i} class="inline">
              <input
                type="radio"
                name={id}
                checked={variant === i}
                onChange={() => onChange({ variant: i, value: initialDraft(o, undefined) })}
              />
              {optionLabel(o, i)}
            </label>
          ))}
        </div>
        <SchemaField
          schema={{ ...options[variant], title: optionLabel(options[variant], variant) }}
          name={name}
          path={path}
          draft={value}
          required={required}
          issues={[]}
          onChange={(next) => onChange({ variant, value: next })}
        />
      </fieldset>
    );
  }

  const common = {
    id,
    name: path,
    'aria-invalid': own.length ? ('true' as const) : undefined,
    'aria-describedby': describedBy,
    'aria-required': required ? ('true' as const) : undefined,
  };
  const labelEl = (
    <label for={id}>
      {label}
      {required ? <span aria-hidden="true"> *</span> : null}
      {required ? <span class="visually-hidden"> (required)</span> : null}
    </label>
  );

  if (kind === 'boolean') {
    return (
      <div class="field">
        <label class="inline">
          <input type="checkbox" {...common} checked={draft === true} onChange={(e) => onChange((e.target as HTMLInputElement).checked)} />
          {label}
        </label>
        {hint()}
        <Messages id={errorId} issues={own} />
      </div>
    );
  }

  if (kind === 'enum') {
    return (
      <div class="field">
        {labelEl}
        <select {...common} value={String(draft)} onChange={(e) => onChange((e.target as HTMLSelectElement).value)}>
          {required && schema.default !== undefined ? null : <option value="">(not set)</option>}
          {schema.enum!.map((v) => (
            <option key={String(v)} value={String(v)}>
              {String(v)}
            </option>
          ))}
        </select>
        {hint()}
        <Messages id={errorId} issues={own} />
      </div>
    );
  }

  if (kind === 'lines') {
    return (
      <div class="field">
        {labelEl}
        <textarea {...common} rows={3} value={String(draft)} onInput={(e) => onChange((e.target as HTMLTextAreaElement).value)} />
        {hint('one per line')}
        <Messages id={errorId} issues={own} />
      </div>
    );
  }

  const range =
    kind === 'number' && (schema.minimum !== undefined || schema.maximum !== undefined)
      ? `${schema.minimum ?? '…'} to ${schema.maximum ?? '…'}`
      : undefined;
  const format = schema.format === 'date-time' ? 'an instant such as 2026-12-01T02:00:00Z' : undefined;
  return (
    <div class="field">
      {labelEl}
      <input
        {...common}
        type="text"
        inputMode={kind === 'number' ? 'numeric' : undefined}
        value={String(draft)}
        onInput={(e) => onChange((e.target as HTMLInputElement).value)}
      />
      {hint(range ?? format)}
      <Messages id={errorId} issues={own} />
    </div>
  );
}

/** The whole form body for one schema at one root path (`input` for a launch). */
export function SchemaForm(props: { schema: JsonSchema; root: string; draft: Draft; issues: Issue[]; onChange: (draft: Draft) => void }) {
  const { schema, root, draft, issues, onChange } = props;
  const d = draft as Record<string, Draft>;
  return (
    <div class="schema-form">
      {Object.entries(schema.properties ?? {}).map(([key, sub]) => (
        <SchemaField
          key={key}
          schema={sub}
          name={key}
          path={`${root}.${key}`}
          draft={d[key] ?? initialDraft(sub)}
          required={schema.required?.includes(key) ?? false}
          issues={issues}
          onChange={(next) => onChange({ ...d, [key]: next })}
        />
      ))}
    </div>
  );
}
