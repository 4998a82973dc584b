/**
 * A form generated from a JSON Schema (the subset zod's toJSONSchema emits: objects, strings,
 * numbers, integers, booleans, enums, arrays, anyOf, defaults). It is generic on purpose: the
 * launch form renders a runbook's input schema with it, and a human task's evidence schema
 * renders the same way. The form holds a draft (what the fields show); `draftToValue` turns it
 * into the JSON to send, and the API's 400 issues (paths like `input.repository.url`) are shown
 * next to the field of that path.
 */
import type { Issue } from './api';
import { fieldId, humanize, initialDraft, kindOf, variants, type Draft, type JsonSchema } from './schema-draft';

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
