import type { ComponentChildren } from 'preact';
import type { ApiError } from './api';

/** An error answer of the API, read out by screen readers as it appears. */
export function ErrorNote({ error, label }: { error?: ApiError | null; label?: string }) {
  if (!error) return null;
  return (
    <div class="error" role="alert">
      {label ? <strong>{label}: </strong> : null}
      {error.status ? `${error.status} — ` : ''}
      {error.message}
    </div>
  );
}

export function Status({ value }: { value: string | null | undefined }) {
  const v = value ?? 'unknown';
  return <span class={`status status-${v}`}>{v.replace(/_/g, ' ')}</span>;
}

export function Section({ title, children, id }: { title: string; children: ComponentChildren; id?: string }) {
  const headingId = `${id ?? title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-heading`;
  return (
    <section aria-labelledby={headingId}>
      <h2 id={headingId}>{title}</h2>
      {children}
    </section>
  );
}

export function Json({ value }: { value: unknown }) {
  return <pre class="json">{JSON.stringify(value, null, 2)}</pre>;
}

/** A scrollable table with a header row; rows are the children. */
export function Table({ columns, label, children }: { columns: ComponentChildren[]; label?: string; children: ComponentChildren }) {
  return (
    <div class="table-scroll">
      <table aria-label={label}>
        <thead>
          <tr>
            {columns.map((c, i) => (
              <th scope="col" key={i}>
                {c}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}
