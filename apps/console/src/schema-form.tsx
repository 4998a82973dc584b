/**
 * A form generated from a JSON Schema (the subset zod's toJSONSchema emits: objects, strings,
 * numbers, integers, booleans, enums, arrays, anyOf, defaults). It is generic on purpose: the
 * launch form renders a runbook's input schema with it, and a human task's evidence schema
 * renders the same way. The form holds a draft (what the fields show); `draftToValue` turns it
 * into the JSON to send, and the API's 400 issues (paths like `input.repository.url`) are shown
 * next to the field of that path.
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import type { ApiError, Issue } from './api';
import { fieldId, humanize, initialDraft, kindOf, shownPaths, variants, type Draft, type JsonSchema } from './schema-draft';

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

  // Objects, lists of objects and choices are a fieldset named by the field, with the field's own issues first.
  const group = (children: ComponentChildren) => (
    <fieldset class="group" id={id}>
      <legend>
        {label}
        {required ? ' (required)' : ''}
      </legend>
      <Messages id={errorId} issues={own} />
      {children}
    </fieldset>
  );

  if (kind === 'object') {
    return group(<ObjectFields schema={schema} path={path} draft={draft} issues={issues} onChange={onChange} />);
  }

  if (kind === 'objects') {
    const items = draft as Draft[];
    return group(
      <>
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
      </>,
    );
  }

  if (kind === 'choice') {
    const options = variants(schema)!;
    const { variant, value } = draft as { variant: number; value: Draft };
    const optionLabel = (o: JsonSchema, i: number) =>
      o.title ?? (o.required?.length ? o.required.map(humanize).join(', ') : `Option ${i + 1}`);
    return group(
      <>
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
      </>,
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

  // One control per kind; each sits under its label with its hint (its API path) and its issues.
  let control;
  let extra: string | undefined;
  if (kind === 'boolean') {
    control = (
      <label class="inline">
        <input type="checkbox" {...common} checked={draft === true} onChange={(e) => onChange((e.target as HTMLInputElement).checked)} />
        {label}
      </label>
    );
  } else if (kind === 'enum') {
    control = (
      <select {...common} value={String(draft)} onChange={(e) => onChange((e.target as HTMLSelectElement).value)}>
        {required && schema.default !== undefined ? null : <option value="">(not set)</option>}
        {schema.enum!.map((v) => (
          <option key={String(v)} value={String(v)}>
            {String(v)}
          </option>
        ))}
      </select>
    );
  } else if (kind === 'lines') {
    control = <textarea {...common} rows={3} value={String(draft)} onInput={(e) => onChange((e.target as HTMLTextAreaElement).value)} />;
    extra = 'one per line';
  } else {
    control = (
      <input
        {...common}
        type="text"
        inputMode={kind === 'number' ? 'numeric' : undefined}
        value={String(draft)}
        onInput={(e) => onChange((e.target as HTMLInputElement).value)}
      />
    );
    // zod's int() says its range ends at 2^53 - 1: that is no limit to a person.
    const max = schema.maximum !== undefined && schema.maximum < Number.MAX_SAFE_INTEGER ? schema.maximum : undefined;
    if (kind === 'number' && max !== undefined) extra = `${schema.minimum ?? '…'} to ${max}`;
    else if (kind === 'number' && schema.minimum !== undefined) extra = `${schema.minimum} or more`;
    else if (schema.format === 'date-time') extra = 'an instant such as 2026-12-01T02:00:00Z';
  }
  return (
    <div class="field">
      {kind === 'boolean' ? null : labelEl}
      {control}
      {hint(extra)}
      <Messages id={errorId} issues={own} />
    </div>
  );
}

/** One field per property of an object schema. */
function ObjectFields({ schema, path, draft, issues, onChange }: Omit<FieldProps, 'name' | 'required'>) {
  const d = draft as Record<string, Draft>;
  return (
    <>
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
    </>
  );
}

/** The whole form body for one schema at one root path (`input` for a launch, a task's evidence next). */
export function SchemaForm(props: { schema: JsonSchema; root: string; draft: Draft; issues: Issue[]; onChange: (draft: Draft) => void }) {
  return (
    <div class="schema-form">
      <ObjectFields schema={props.schema} path={props.root} draft={props.draft} issues={props.issues} onChange={props.onChange} />
    </div>
  );
}

/**
 * What the API refused, above the form it refused: the status and message, then each issue,
 * linked to its field when the form shows that field. It takes the focus when it appears.
 */
export function ErrorSummary(props: { title: string; error: ApiError | null; schema: JsonSchema; root: string; draft: Draft }) {
  const ref = useRef<HTMLDivElement>(null);
  const { error } = props;
  useEffect(() => {
    if (error) ref.current?.focus();
  }, [error]);
  if (!error) return null;
  const shown = new Set(shownPaths(props.schema, props.root, props.draft));
  return (
    <div class="error-summary" role="alert" tabIndex={-1} ref={ref}>
      <h3>{props.title}</h3>
      <p>
        {error.status ? `${error.status} — ` : ''}
        {error.message}
      </p>
      {error.issues.length ? (
        <ul>
          {error.issues.map((i) => (
            <li key={i.path + i.message}>
              {shown.has(i.path) || /\.\d+$/.test(i.path) ? (
                <a href={`#${fieldId(shown.has(i.path) ? i.path : i.path.replace(/\.\d+$/, ''))}`}>{i.path}</a>
              ) : (
                <code>{i.path || '(body)'}</code>
              )}
              : {i.message}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
