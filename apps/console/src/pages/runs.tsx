import { useState } from 'preact/hooks';
import { getJson, formatTime, useLoad } from '../data';
import { BASE, href, navigate } from '../router';
import type { RunbookSummary, RunSummary } from '../types';
import { ErrorNote, Status, Table } from '../ui';

const STATUSES = ['running', 'awaiting_approval', 'compensating', 'succeeded', 'failed', 'rejected', 'cancelled'];
const FILTERS = ['runbook', 'status', 'requestedBy', 'awaitingApproval', 'scheduleId'] as const;

/** The run list; its filters live in the URL, so a filtered list is a link too. */
export function Runs({ query }: { query: URLSearchParams }) {
  const filters = Object.fromEntries(FILTERS.map((f) => [f, query.get(f) ?? '']));
  const [pages, setPages] = useState<string[]>([]);
  const pageToken = pages.at(-1);
  const params = new URLSearchParams(Object.entries(filters).filter(([, v]) => v));
  if (pageToken) params.set('pageToken', pageToken);
  const key = params.toString();
  const runs = useLoad(key, () => getJson<{ runs: RunSummary[]; nextPageToken: string | null }>(`/v1/runs?${key}`), { pollMs: 5000 });
  const catalog = useLoad('catalog', () => getJson<{ runbooks: RunbookSummary[] }>('/v1/runbooks'));

  const apply = (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const next = new URLSearchParams();
    for (const f of FILTERS) {
      const v = String(form.get(f) ?? '').trim();
      if (v) next.set(f, v);
    }
    setPages([]);
    navigate(`${BASE}/runs${next.size ? `?${next}` : ''}`);
  };

  return (
    <>
      <h1 tabIndex={-1}>Runs</h1>
      <form class="filters" onSubmit={apply} aria-label="Filter runs">
        <div class="field">
          <label for="f-runbook">Runbook</label>
          <select id="f-runbook" name="runbook" value={filters.runbook}>
            <option value="">any</option>
            {(catalog.data?.runbooks ?? []).map((r) => (
              <option value={r.name}>{r.name}</option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="f-status">Status</label>
          <select id="f-status" name="status" value={filters.status}>
            <option value="">any</option>
            {STATUSES.map((s) => (
              <option value={s}>{s.replace(/_/g, ' ')}</option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="f-requestedBy">Requested by</label>
          <input id="f-requestedBy" name="requestedBy" value={filters.requestedBy} placeholder="principal id" />
        </div>
        <div class="field">
          <label for="f-awaiting">Awaiting approval</label>
          <select id="f-awaiting" name="awaitingApproval" value={filters.awaitingApproval}>
            <option value="">either</option>
            <option value="true">yes</option>
            <option value="false">no</option>
          </select>
        </div>
        <div class="field">
          <label for="f-schedule">Schedule</label>
          <input id="f-schedule" name="scheduleId" value={filters.scheduleId} placeholder="schedule id" />
        </div>
        <button type="submit">Apply filters</button>
      </form>
      <ErrorNote error={runs.error} />
      {runs.data ? (
        <div>
          <Table label="Runs" columns={['Run', 'Runbook', 'Status', 'Requested by', 'Started', 'Ended']}>
            {runs.data.runs.map((r) => (
              <tr key={r.runId}>
                <td>
                  <a href={href('runs', r.runId)}>{r.runId}</a>
                </td>
                <td>{r.runbook ?? '—'}</td>
                <td>
                  <Status value={r.status ?? r.temporalStatus.toLowerCase()} />
                  {r.awaitingApproval ? ' (approval)' : ''}
                </td>
                <td>{r.requestedBy ?? '—'}</td>
                <td>{formatTime(r.startTime)}</td>
                <td>{formatTime(r.closeTime)}</td>
              </tr>
            ))}
          </Table>
          {runs.data.runs.length === 0 ? <p>No runs match.</p> : null}
        </div>
      ) : (
        <p>Loading…</p>
      )}
      <div class="actions">
        {pages.length ? (
          <button type="button" class="secondary" onClick={() => setPages(pages.slice(0, -1))}>
            Previous page
          </button>
        ) : null}
        {runs.data?.nextPageToken ? (
          <button type="button" class="secondary" onClick={() => setPages([...pages, runs.data!.nextPageToken!])}>
            Next page
          </button>
        ) : null}
      </div>
    </>
  );
}
