import { useRef, useState } from 'preact/hooks';
import { ApiError, post } from '../api';
import { getJson, toApiError, useLoad } from '../data';
import { href, navigate } from '../router';
import { draftToValue, initialDraft, type Draft } from '../schema-draft';
import { ErrorSummary, SchemaForm } from '../schema-form';
import type { RunbookSummary } from '../types';
import { ErrorNote } from '../ui';

interface Launched {
  runId: string;
}

/** Launch a runbook: its form is generated from the input JSON Schema the catalog publishes. */
export function Launch({ runbook }: { runbook?: string }) {
  const catalog = useLoad('catalog', () => getJson<{ runbooks: RunbookSummary[] }>('/v1/runbooks'));
  const chosen = catalog.data?.runbooks.find((r) => r.name === runbook);
  return (
    <>
      <h1 tabIndex={-1}>Launch a runbook</h1>
      <ErrorNote error={catalog.error} />
      <div class="field">
        <label for="launch-runbook">Runbook</label>
        <select id="launch-runbook" value={runbook ?? ''} onChange={(e) => navigate(href('launch', (e.target as HTMLSelectElement).value))}>
          <option value="">choose a runbook</option>
          {(catalog.data?.runbooks ?? []).map((r) => (
            <option key={r.name} value={r.name}>
              {r.title} ({r.name})
            </option>
          ))}
        </select>
      </div>
      {catalog.data && runbook && !chosen ? <ErrorNote error={new ApiError(404, `runbook "${runbook}" is not in the catalog`)} /> : null}
      {chosen ? <LaunchForm key={chosen.name} runbook={chosen} /> : null}
    </>
  );
}

function LaunchForm({ runbook }: { runbook: RunbookSummary }) {
  const [draft, setDraft] = useState<Draft>(() => initialDraft(runbook.inputSchema, {}));
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  // One key per attempt: a retry after a lost answer returns the run it started instead of a second run.
  const retryKey = useRef<string | null>(null);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const idempotencyKey = retryKey.current ?? `console-${crypto.randomUUID()}`;
    try {
      const input = draftToValue(runbook.inputSchema, draft);
      const launched = await post<Launched>('/v1/runs', { runbook: runbook.name, input, idempotencyKey });
      retryKey.current = null;
      // A run that waits for its window says so on its page (rollout.waitingFor).
      navigate(href('runs', launched.runId));
    } catch (err) {
      const apiError = toApiError(err);
      retryKey.current = apiError.status === 0 ? idempotencyKey : null;
      setError(apiError);
    } finally {
      setBusy(false);
    }
  };

  const issues = error?.issues ?? [];
  return (
    <form onSubmit={submit} noValidate aria-labelledby="launch-heading">
      <h2 id="launch-heading">{runbook.title}</h2>
      <p>{runbook.summary}</p>
      <details>
        <summary>What it does ({runbook.steps.length} steps)</summary>
        <ol>
          {runbook.steps.map((s) => (
            <li key={s.id}>{s.title}</li>
          ))}
        </ol>
      </details>
      <ErrorSummary title="The run was not launched" error={error} schema={runbook.inputSchema} root="input" draft={draft} />
      <SchemaForm schema={runbook.inputSchema} root="input" draft={draft} issues={issues} onChange={setDraft} />
      <div class="actions">
        <button type="submit" disabled={busy}>
          {busy ? 'Launching…' : `Launch ${runbook.name}`}
        </button>
      </div>
    </form>
  );
}
