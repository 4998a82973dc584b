import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { api, encode, post, type ApiError } from '../api';
import { formatTime, getJson, relative, toApiError, useLoad } from '../data';
import { Markdown } from '../markdown';
import { href } from '../router';
import { may, type Principal } from '../session';
import { TERMINAL, type HostRecord, type RolloutState, type RunDetail } from '../types';
import { ErrorNote, Json, Section, Status, Table } from '../ui';

/** The live run page: polls the run until it ends. */
export function RunPage({ runId, me }: { runId: string; me: Principal }) {
  const run = useLoad(`run:${runId}`, () => getJson<RunDetail>(`/v1/runs/${encode(runId)}`), {
    pollMs: 1500,
    poll: (r) => !TERMINAL.includes(r.status),
  });
  const state = run.data;
  // The report is rendered from the run state: reload it whenever the status or step count moves.
  const reportKey = state
    ? `${runId}:${state.status}:${state.steps.filter((s) => s.endedAt).length}:${state.gates.map((g) => g.state).join()}`
    : null;
  const report = useLoad(reportKey, () => api<string>(`/v1/runs/${encode(runId)}/report`, { accept: 'text/markdown' }));

  if (!state) {
    return (
      <>
        <h1 tabIndex={-1}>Run {runId}</h1>
        {run.error ? <ErrorNote error={run.error} /> : <p>Loading…</p>}
      </>
    );
  }
  const ended = TERMINAL.includes(state.status);
  return (
    <>
      <h1 tabIndex={-1}>
        {state.title} <Status value={state.status} />
      </h1>
      <ErrorNote error={run.error} label="Refresh failed" />
      <dl class="facts">
        <dt>Run</dt>
        <dd>
          <code>{state.runId}</code> (Temporal: {state.temporalStatus})
        </dd>
        <dt>Runbook</dt>
        <dd>{state.runbook}</dd>
        <dt>Input hash</dt>
        <dd>
          <code class="hash">{state.inputSha256 ?? 'not recorded'}</code>
        </dd>
        <dt>Requested by</dt>
        <dd>
          {state.requestedBy.displayName} ({state.requestedBy.id}) at {formatTime(state.requestedAt)}
        </dd>
        {state.schedule ? (
          <>
            <dt>Schedule</dt>
            <dd>
              {state.schedule.id}
              {state.schedule.fireTime ? `, fire time ${formatTime(state.schedule.fireTime)}` : ''}
            </dd>
          </>
        ) : null}
        {state.endedAt ? (
          <>
            <dt>Ended</dt>
            <dd>{formatTime(state.endedAt)}</dd>
          </>
        ) : null}
        {state.error ? (
          <>
            <dt>Error</dt>
            <dd>{state.error}</dd>
          </>
        ) : null}
        {state.cancellation ? (
          <>
            <dt>Cancelled</dt>
            <dd>
              by {state.cancellation.by} at {formatTime(state.cancellation.at)}: {state.cancellation.reason}
            </dd>
          </>
        ) : null}
      </dl>
      {!ended && may(me, 'technician') ? <CancelForm runId={runId} onDone={run.reload} /> : null}

      <Section title="Steps">
        <Table columns={['Step', 'State', 'Attempts', 'Started', 'Ended', 'Summary']}>
          {state.steps.map((s) => (
            <tr key={s.id}>
              <th scope="row">{s.title}</th>
              <td>
                <Status value={s.state} />
              </td>
              <td>{s.attempts}</td>
              <td>{formatTime(s.startedAt)}</td>
              <td>{formatTime(s.endedAt)}</td>
              <td>{s.error ?? s.summary ?? ''}</td>
            </tr>
          ))}
        </Table>
      </Section>

      {state.gates.length ? (
        <Section title="Approvals">
          <ul class="cards">
            {state.gates.map((g) => (
              <li key={g.id} class="card">
                <strong>{g.title}</strong> <Status value={g.state} />{' '}
                {g.state === 'pending' ? (
                  <>
                    — deadline {formatTime(g.deadline)} ({relative(g.deadline)}) — <a href={href('approvals', runId, g.id)}>Decide</a>
                  </>
                ) : null}
                {g.decisions.map((d) => (
                  <p key={d.by + d.at}>
                    {d.displayName} {d.decision === 'approve' ? 'approved' : 'rejected'} at {formatTime(d.at)}
                    {d.comment ? `: “${d.comment}”` : ''}
                  </p>
                ))}
              </li>
            ))}
          </ul>
        </Section>
      ) : null}

      {state.rollout ? <Rollout runId={runId} rollout={state.rollout} me={me} ended={ended} onChanged={run.reload} /> : null}

      <Section title="Timeline">
        <Timeline run={state} />
      </Section>

      <Section title="Input">
        <Json value={state.input} />
      </Section>

      <Section title="Report">
        <ErrorNote error={report.error} />
        {report.data ? <Markdown source={report.data} /> : <p>Loading…</p>}
      </Section>
    </>
  );
}

function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const act = async (label: string, call: () => Promise<unknown>, after?: () => void) => {
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      await call();
      setDone(label);
      after?.();
    } catch (err) {
      setError(toApiError(err));
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, done, act };
}

/** A one-line form: its fields, then its button; submitting calls `onSubmit` (no page load). */
function InlineForm({ label, onSubmit, children }: { label?: string; onSubmit: () => unknown; children: ComponentChildren }) {
  return (
    <form
      class="inline-form"
      aria-label={label}
      onSubmit={(e) => {
        e.preventDefault();
        void onSubmit();
      }}
    >
      {children}
    </form>
  );
}

function CancelForm({ runId, onDone }: { runId: string; onDone: () => void }) {
  const [reason, setReason] = useState('');
  const { busy, error, done, act } = useAction();
  return (
    <InlineForm
      label="Cancel the run"
      onSubmit={() => act('Cancellation requested.', () => post(`/v1/runs/${encode(runId)}/cancel`, { reason }), onDone)}
    >
      <div class="field">
        <label for="cancel-reason">Reason to cancel</label>
        <input
          id="cancel-reason"
          value={reason}
          required
          maxLength={2000}
          onInput={(e) => setReason((e.target as HTMLInputElement).value)}
        />
      </div>
      <button type="submit" class="danger" disabled={busy || !reason.trim()}>
        Cancel run
      </button>
      <ErrorNote error={error} label="Not cancelled" />
      {done ? <p role="status">{done}</p> : null}
    </InlineForm>
  );
}

const HOST_STATES: HostRecord['state'][] = ['pending', 'patching', 'patched', 'failed', 'rolled_back', 'rollback_failed', 'skipped'];
/** Host records one page of the run page shows (the API's largest page). */
const HOSTS_SHOWN = 500;

type HostCounts = Record<HostRecord['state'], number>;

/** Hosts by state; the console imports no code from the contracts (types only), so it counts itself. */
function countHosts(hosts: readonly HostRecord[]): HostCounts {
  const counts = Object.fromEntries(HOST_STATES.map((s) => [s, 0])) as HostCounts;
  for (const h of hosts) counts[h.state] += 1;
  return counts;
}

/** Runs since host records went to the store carry counts; older ones every host's record. */
function rolloutCounts(rollout: RolloutState): HostCounts {
  return rollout.counts ?? countHosts(rollout.hosts);
}

/** A page of GET /v1/runs/{id}/hosts. */
interface HostPage {
  hosts: HostRecord[];
  total: number;
}

function Rollout({
  runId,
  rollout,
  me,
  ended,
  onChanged,
}: {
  runId: string;
  rollout: RolloutState;
  me: Principal;
  ended: boolean;
  onChanged: () => void;
}) {
  const steer = may(me, 'technician') && !ended && !rollout.stopReason;
  const [concurrency, setConcurrency] = useState(String(rollout.concurrency));
  const [skipHost, setSkipHost] = useState('');
  const [abortReason, setAbortReason] = useState('');
  const [rollback, setRollback] = useState(true);
  const [hostFilter, setHostFilter] = useState('');
  const { busy, error, done, act } = useAction();
  const call = (action: string, body: Record<string, unknown>, label: string) =>
    act(label, () => post(`/v1/runs/${encode(runId)}/rollout/${action}`, body), onChanged);
  // Host records are paged from the store (the run's state has counts only); reloaded as the counts move.
  const counts = rolloutCounts(rollout);
  const progress = `${runId}:${Object.values(counts).join(',')}:${rollout.skipped.length}`;
  const hostsUrl = (state: string) => `/v1/runs/${encode(runId)}/hosts?pageSize=${HOSTS_SHOWN}${state ? `&state=${encode(state)}` : ''}`;
  const shownPage = useLoad(`hosts:${progress}:${hostFilter}`, () => getJson<HostPage>(hostsUrl(hostFilter)));
  const pendingPage = useLoad(steer ? `pending:${progress}` : null, () => getJson<HostPage>(hostsUrl('pending')));
  const pending = pendingPage.data?.hosts ?? [];
  const shown = shownPage.data?.hosts ?? [];
  const total = Object.values(counts).reduce((a, b) => a + b, 0);

  return (
    <Section title="Rollout">
      <dl class="facts">
        <dt>State</dt>
        <dd>
          {rollout.paused ? <Status value="paused" /> : <Status value={rollout.stopReason ? 'stopped' : 'rolling'} />}
          {rollout.waitingFor ? ` — waiting for ${rollout.waitingFor}` : ''}
          {rollout.stopReason ? ` — ${rollout.stopReason}` : ''}
        </dd>
        <dt>Concurrency</dt>
        <dd>{rollout.concurrency}</dd>
        <dt>Failures</dt>
        <dd>
          {rollout.failures} (stops above {rollout.maxFailures})
        </dd>
        {rollout.skipped.length ? (
          <>
            <dt>Skipped</dt>
            <dd>{rollout.skipped.join(', ')}</dd>
          </>
        ) : null}
      </dl>

      <h3>Waves</h3>
      <Table columns={['Wave', 'State', 'Hosts', ...HOST_STATES.map((s) => s.replace(/_/g, ' '))]}>
        {rollout.waves.map((w) => {
          const inWave = w.counts ?? countHosts(rollout.hosts.filter((h) => h.wave === w.index));
          return (
            <tr key={w.index}>
              <th scope="row">{w.name}</th>
              <td>
                <Status value={w.state} />
              </td>
              <td>{w.hosts}</td>
              {HOST_STATES.map((s) => (
                <td key={s}>{inWave[s]}</td>
              ))}
            </tr>
          );
        })}
      </Table>

      {steer ? (
        <div class="steering" role="group" aria-labelledby="steer-heading">
          <h3 id="steer-heading">Steer the rollout</h3>
          <div class="actions">
            {rollout.paused ? (
              <button type="button" disabled={busy} onClick={() => call('resume', {}, 'Resumed.')}>
                Resume rollout
              </button>
            ) : (
              <button type="button" disabled={busy} onClick={() => call('pause', { reason: 'paused from the console' }, 'Paused.')}>
                Pause rollout
              </button>
            )}
          </div>
          <InlineForm onSubmit={() => call('concurrency', { concurrency: Number(concurrency) }, `Concurrency set to ${concurrency}.`)}>
            <div class="field">
              <label for="steer-concurrency">Concurrency (1–200)</label>
              <input
                id="steer-concurrency"
                type="number"
                min={1}
                max={200}
                value={concurrency}
                onInput={(e) => setConcurrency((e.target as HTMLInputElement).value)}
              />
            </div>
            <button type="submit" class="secondary" disabled={busy}>
              Set concurrency
            </button>
          </InlineForm>
          <InlineForm onSubmit={() => call('skip', { host: skipHost }, `Skipped ${skipHost}.`)}>
            <div class="field">
              <label for="steer-skip">Skip a pending host</label>
              <select id="steer-skip" value={skipHost} onChange={(e) => setSkipHost((e.target as HTMLSelectElement).value)}>
                <option value="">choose a host</option>
                {pending.map((h) => (
                  <option key={h.name} value={h.name}>
                    {h.name}
                  </option>
                ))}
              </select>
            </div>
            <button type="submit" class="secondary" disabled={busy || !skipHost}>
              Skip host
            </button>
          </InlineForm>
          <InlineForm onSubmit={() => call('abort', { reason: abortReason, rollback }, 'Abort requested.')}>
            <div class="field">
              <label for="steer-abort">Reason to abort</label>
              <input
                id="steer-abort"
                value={abortReason}
                maxLength={500}
                onInput={(e) => setAbortReason((e.target as HTMLInputElement).value)}
              />
            </div>
            <label class="inline">
              <input type="checkbox" checked={rollback} onChange={(e) => setRollback((e.target as HTMLInputElement).checked)} />
              Roll back every changed host
            </label>
            <button type="submit" class="danger" disabled={busy || !abortReason.trim()}>
              Abort rollout
            </button>
          </InlineForm>
          <ErrorNote error={error} label="Refused" />
          {done ? <p role="status">{done}</p> : null}
        </div>
      ) : null}

      <h3>Hosts</h3>
      <div class="field">
        <label for="host-filter">Show hosts</label>
        <select id="host-filter" value={hostFilter} onChange={(e) => setHostFilter((e.target as HTMLSelectElement).value)}>
          <option value="">all ({total})</option>
          {HOST_STATES.map((s) => (
            <option key={s} value={s}>
              {s.replace(/_/g, ' ')} ({counts[s]})
            </option>
          ))}
        </select>
      </div>
      <div>
        <Table label="Hosts" columns={['Host', 'Wave', 'State', 'Changes', 'At']}>
          {shown.map((h) => (
            <tr key={h.name}>
              <th scope="row">{h.name}</th>
              <td>{rollout.waves[h.wave]?.name ?? h.wave}</td>
              <td>
                <Status value={h.state} />
              </td>
              <td>{h.error ?? (h.changed ?? []).map((c) => `${c.package} ${c.from ?? '—'} → ${c.to}`).join(', ')}</td>
              <td>{formatTime(h.at)}</td>
            </tr>
          ))}
        </Table>
        <ErrorNote error={shownPage.error} label="Hosts not loaded" />
        {(shownPage.data?.total ?? 0) > shown.length ? (
          <p>
            Showing the first {shown.length} of {shownPage.data?.total} hosts; filter by state to see others.
          </p>
        ) : null}
      </div>
    </Section>
  );
}

interface TimelineEvent {
  at: string;
  who?: string;
  what: string;
}

/** Who did what, and when: requests, steps, gates, escalations, operator actions. */
function Timeline({ run }: { run: RunDetail }) {
  const events: TimelineEvent[] = [{ at: run.requestedAt, who: run.requestedBy.id, what: `requested ${run.runbook}` }];
  for (const s of run.steps) {
    if (s.startedAt) events.push({ at: s.startedAt, what: `step “${s.title}” started` });
    if (s.endedAt) events.push({ at: s.endedAt, what: `step “${s.title}” ${s.state}${s.error ? `: ${s.error}` : ''}` });
  }
  for (const g of run.gates) {
    if (g.openedAt) events.push({ at: g.openedAt, what: `approval “${g.title}” opened` });
    for (const d of g.decisions)
      events.push({
        at: d.at,
        who: d.by,
        what: `${d.decision === 'approve' ? 'approved' : 'rejected'} “${g.title}”${d.comment ? `: ${d.comment}` : ''}`,
      });
    for (const e of g.escalations) events.push({ at: e.at, what: `“${g.title}” escalated to tier ${e.tier} (${e.contact}): ${e.reason}` });
    if (g.closedAt) events.push({ at: g.closedAt, what: `approval “${g.title}” ${g.state}` });
  }
  for (const a of run.rollout?.operatorActions ?? []) events.push({ at: a.at, who: a.by, what: `${a.action}: ${a.detail}` });
  if (run.cancellation) events.push({ at: run.cancellation.at, who: run.cancellation.by, what: `cancelled: ${run.cancellation.reason}` });
  if (run.endedAt) events.push({ at: run.endedAt, what: `run ${run.status}` });
  events.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  return (
    <ol class="timeline">
      {events.map((e, i) => (
        <li key={i}>
          <time dateTime={e.at}>{formatTime(e.at)}</time> {e.who ? <strong>{e.who}</strong> : null} {e.what}
        </li>
      ))}
    </ol>
  );
}
