import { useState } from 'preact/hooks';
import { encode, post, type ApiError } from '../api';
import { getJson, formatTime, relative, toApiError, useLoad } from '../data';
import { href } from '../router';
import type { Principal } from '../session';
import type { GateRecord, OpenTask, PendingApproval, RunDetail, TaskRecord } from '../types';
import { ErrorNote, Json, Section, Status } from '../ui';
import { TaskCard } from './task-card';

/** The tasks I may act on: those of my roles (tiers included) and those claimed by or reassigned to me. */
async function myTasks(): Promise<OpenTask[]> {
  const [byRole, mine] = await Promise.all([
    getJson<{ tasks: OpenTask[] }>('/v1/tasks?myRoles=true'),
    getJson<{ tasks: OpenTask[] }>('/v1/tasks?mine=true'),
  ]);
  const key = (t: OpenTask) => `${t.runId}/${t.taskId}`;
  return [...byRole.tasks, ...mine.tasks.filter((t) => !byRole.tasks.some((b) => key(b) === key(t)))];
}

/**
 * What I may act on, from two sources: approvals (GET /v1/approvals) and human tasks
 * (GET /v1/tasks, completed with an evidence form generated from their JSON Schema).
 */
export function Inbox({ me }: { me: Principal }) {
  const approvals = useLoad('approvals', () => getJson<{ approvals: PendingApproval[] }>('/v1/approvals?status=pending'), { pollMs: 5000 });
  // A card decided here stays (with its outcome) until the page changes, though the API no longer lists it.
  const [decided, setDecided] = useState<PendingApproval[]>([]);
  const key = (a: PendingApproval) => `${a.runId}/${a.gateId}`;
  const listed = approvals.data?.approvals ?? [];
  const items = [...listed, ...decided.filter((d) => !listed.some((a) => key(a) === key(d)))];
  const tasks = useLoad('tasks', myTasks, { pollMs: 5000 });
  // Likewise a task completed here stays, with its outcome, after the API stops listing it.
  const [completed, setCompleted] = useState<OpenTask[]>([]);
  const taskKey = (t: OpenTask) => `${t.runId}/${t.taskId}`;
  const listedTasks = tasks.data ?? [];
  const taskItems = [...listedTasks, ...completed.filter((c) => !listedTasks.some((t) => taskKey(t) === taskKey(c)))];
  return (
    <>
      <h1 tabIndex={-1}>Inbox</h1>
      <p>
        Signed in as {me.displayName} ({me.roles.join(', ')}). The approvals below are the ones you may decide: you hold the gate's role,
        did not request the run, and have not decided yet. The tasks are those you may claim (you hold one of their roles or tiers) or hold.
      </p>
      <Section title={`Approvals (${listed.length})`} id="approvals">
        <ErrorNote error={approvals.error} />
        {approvals.loading && !approvals.data ? <p>Loading…</p> : null}
        {approvals.data && items.length === 0 ? <p>Nothing waits for you.</p> : null}
        <ul class="cards">
          {items.map((a) => (
            <li key={key(a)}>
              <ApprovalCard runId={a.runId} gateId={a.gateId} onDecided={() => setDecided((d) => [...d, a])} />
            </li>
          ))}
        </ul>
      </Section>
      <Section title={`Tasks (${listedTasks.length})`} id="tasks">
        <ErrorNote error={tasks.error} />
        {tasks.loading && !tasks.data ? <p>Loading…</p> : null}
        {tasks.data && taskItems.length === 0 ? <p>No task waits for you.</p> : null}
        <ul class="cards">
          {taskItems.map((t) => (
            <li key={taskKey(t)}>
              <TaskCard
                task={t}
                me={me}
                onChanged={(done?: TaskRecord) => {
                  if (done) setCompleted((c) => [...c, { ...t, state: done.state, claimedBy: done.claimedBy }]);
                  tasks.reload();
                }}
              />
            </li>
          ))}
        </ul>
      </Section>
    </>
  );
}

/** The deep link /console/approvals/{run}/{gate} (the link notifications carry). */
export function ApprovalPage({ runId, gateId }: { runId: string; gateId: string }) {
  return (
    <>
      <h1 tabIndex={-1}>Approval</h1>
      <ApprovalCard runId={runId} gateId={gateId} standalone />
    </>
  );
}

function tierOf(gate: GateRecord): string {
  const last = gate.escalations.at(-1);
  return last ? `tier ${last.tier} (escalated to ${last.contact} ${formatTime(last.at)}: ${last.reason})` : 'tier 1 (first approvers)';
}

/** One gate with everything needed to decide it: what the run does, its input and hash, who asked, until when. */
function ApprovalCard({
  runId,
  gateId,
  onDecided,
  standalone,
}: {
  runId: string;
  gateId: string;
  onDecided?: () => void;
  standalone?: boolean;
}) {
  const run = useLoad(`run:${runId}`, () => getJson<RunDetail>(`/v1/runs/${encode(runId)}`));
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [outcome, setOutcome] = useState<string | null>(null);

  if (run.error && !run.data) return <ErrorNote error={run.error} label={`Run ${runId}`} />;
  if (!run.data) return <p>Loading {runId}…</p>;
  const state = run.data;
  const gate = state.gates.find((g) => g.id === gateId);
  if (!gate) return <ErrorNote error={toApiError(new Error(`run ${runId} has no gate ${gateId}`))} />;
  const headingId = `gate-${runId}-${gateId}`.replace(/[^A-Za-z0-9_-]/g, '_');
  const HeadingTag = standalone ? 'h2' : 'h3';

  const decide = async (decision: 'approve' | 'reject') => {
    setBusy(true);
    setError(null);
    try {
      const result = await post<GateRecord>(`/v1/runs/${encode(runId)}/approvals/${encode(gateId)}`, { decision, comment });
      setOutcome(`${decision === 'approve' ? 'Approved' : 'Rejected'}: the gate is now ${result.state.replace(/_/g, ' ')}.`);
      run.reload();
      onDecided?.();
    } catch (err) {
      setError(toApiError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <article class="card" aria-labelledby={headingId}>
      <HeadingTag id={headingId}>
        {gate.title} — <a href={href('runs', runId)}>{state.title}</a>
      </HeadingTag>
      <dl class="facts">
        <dt>Run</dt>
        <dd>
          <a href={href('runs', runId)}>{runId}</a> <Status value={state.status} />
        </dd>
        <dt>Requested by</dt>
        <dd>
          {state.requestedBy.displayName} ({state.requestedBy.id}) at {formatTime(state.requestedAt)}
        </dd>
        <dt>Gate</dt>
        <dd>
          <Status value={gate.state} /> {gate.decisions.filter((d) => d.decision === 'approve').length} of {gate.requiredApprovals}{' '}
          approvals; roles {gate.allowedRoles.join(', ')}
        </dd>
        <dt>Deadline</dt>
        <dd>{gate.deadline ? `${formatTime(gate.deadline)} (${relative(gate.deadline)})` : 'none'}</dd>
        <dt>Escalation</dt>
        <dd>{tierOf(gate)}</dd>
        <dt>Input hash</dt>
        <dd>
          <code class="hash">{gate.inputSha256 ?? state.inputSha256 ?? 'not recorded'}</code>
        </dd>
      </dl>
      {gate.decisions.length ? (
        <ul class="decisions" aria-label="Decisions so far">
          {gate.decisions.map((d) => (
            <li key={d.by + d.at}>
              {d.displayName} ({d.by}) {d.decision === 'approve' ? 'approved' : 'rejected'} at {formatTime(d.at)}
              {d.comment ? `: “${d.comment}”` : ''}
            </li>
          ))}
        </ul>
      ) : null}
      <details open>
        <summary>What the run will do</summary>
        <ol class="steps-plan">
          {state.steps.map((s) => (
            <li key={s.id}>
              {s.title} <Status value={s.state} />
            </li>
          ))}
        </ol>
      </details>
      <details open={standalone}>
        <summary>Input</summary>
        <Json value={state.input} />
      </details>
      {gate.state === 'pending' && !outcome ? (
        <form
          class="decide"
          onSubmit={(e) => {
            e.preventDefault();
          }}
        >
          <div class="field">
            <label for={`${headingId}-comment`}>Comment</label>
            <textarea
              id={`${headingId}-comment`}
              rows={2}
              maxLength={2000}
              value={comment}
              onInput={(e) => setComment((e.target as HTMLTextAreaElement).value)}
            />
          </div>
          <ErrorNote error={error} label="Not recorded" />
          <div class="actions">
            <button type="button" disabled={busy} onClick={() => decide('approve')}>
              Approve
            </button>
            <button type="button" class="danger" disabled={busy} onClick={() => decide('reject')}>
              Reject
            </button>
          </div>
        </form>
      ) : null}
      {outcome ? (
        <p class="success" role="status">
          {outcome}
        </p>
      ) : null}
    </article>
  );
}
