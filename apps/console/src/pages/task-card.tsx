import { useState } from 'preact/hooks';
import { encode, post, type ApiError } from '../api';
import { formatTime, relative, toApiError } from '../data';
import { Markdown } from '../markdown';
import { href } from '../router';
import { draftToValue, initialDraft, type Draft } from '../schema-draft';
import { ErrorSummary, SchemaForm } from '../schema-form';
import type { Principal } from '../session';
import type { OpenTask, TaskRecord } from '../types';
import { Status } from '../ui';

/** Who has the task now: its tier (or role), the tiers it passed through, and whether its SLA is spent. */
function tierOf(task: OpenTask): string {
  const last = task.escalations.at(-1);
  const now = last ? `${task.assignedRole} (escalated ${formatTime(last.at)}: ${last.reason})` : `${task.assignedRole} (first line)`;
  return task.overdue ? `${now}, overdue` : now;
}

/**
 * One human task with what it asks and who has it: claim it, release it, or complete it with
 * its evidence form (generated from the task's JSON Schema, the API's 400s at their fields).
 */
export function TaskCard({ task, me, onChanged }: { task: OpenTask; me: Principal; onChanged: (done?: TaskRecord) => void }) {
  const [draft, setDraft] = useState<Draft>(() => initialDraft(task.evidenceForm, {}));
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [outcome, setOutcome] = useState<string | null>(null);
  const idBase = `task-${task.runId}-${task.taskId}`.replace(/[^A-Za-z0-9_-]/g, '_');
  const mine = task.claimedBy?.id === me.id;

  const act = async (action: 'claim' | 'release' | 'complete', body: Record<string, unknown>, done: (t: TaskRecord) => string) => {
    setBusy(true);
    setError(null);
    try {
      const result = await post<TaskRecord>(`/v1/runs/${encode(task.runId)}/tasks/${encode(task.taskId)}/${action}`, body);
      setOutcome(done(result));
      onChanged(result.state === 'done' ? result : undefined);
    } catch (err) {
      setError(toApiError(err));
    } finally {
      setBusy(false);
    }
  };

  const complete = (event: Event) => {
    event.preventDefault();
    const evidence = draftToValue(task.evidenceForm, draft) as Record<string, unknown>;
    void act('complete', { evidence, ...(comment ? { comment } : {}) }, (t) => `Completed: the task is ${t.state}; the run goes on.`);
  };

  return (
    <article class="card" aria-labelledby={`${idBase}-heading`}>
      <h3 id={`${idBase}-heading`}>
        {task.title} — <a href={href('runs', task.runId)}>{task.runbook}</a>
      </h3>
      <dl class="facts">
        <dt>Run</dt>
        <dd>
          <a href={href('runs', task.runId)}>{task.runId}</a>
        </dd>
        <dt>Requested by</dt>
        <dd>
          {task.requestedBy.displayName} ({task.requestedBy.id})
        </dd>
        <dt>Task</dt>
        <dd>
          <Status value={task.state} /> {task.taskId}; roles {task.eligibleRoles.join(', ')}
          {task.claimedBy ? `; claimed by ${task.claimedBy.displayName} (${task.claimedBy.id}) at ${formatTime(task.claimedBy.at)}` : ''}
        </dd>
        <dt>Deadline</dt>
        <dd>
          {task.deadline ? `${formatTime(task.deadline)} (${relative(task.deadline)})` : task.overdue ? 'passed (last tier)' : 'none'}
        </dd>
        <dt>Tier</dt>
        <dd>{tierOf(task)}</dd>
      </dl>
      {task.escalations.length ? (
        <ul class="decisions" aria-label="Escalations">
          {task.escalations.map((e) => (
            <li key={e.at}>
              tier {e.tier}: {e.contact} at {formatTime(e.at)} — {e.reason}
            </li>
          ))}
        </ul>
      ) : null}
      <details open>
        <summary>Instructions</summary>
        <Markdown source={task.instructions} />
      </details>
      {outcome ? (
        <p class="success" role="status">
          {outcome}
        </p>
      ) : null}
      {outcome?.startsWith('Completed') ? null : task.state === 'open' ? (
        <>
          <ErrorSummary title="Not claimed" error={error} schema={task.evidenceForm} root="evidence" draft={draft} />
          <div class="actions">
            <button type="button" disabled={busy} onClick={() => act('claim', {}, () => 'Claimed: it is yours to do.')}>
              Claim
            </button>
          </div>
        </>
      ) : mine ? (
        <form class="evidence" onSubmit={complete} noValidate aria-label={`Evidence for ${task.title}`}>
          <h4>Evidence</h4>
          <ErrorSummary title="Not completed" error={error} schema={task.evidenceForm} root="evidence" draft={draft} />
          <SchemaForm schema={task.evidenceForm} root="evidence" draft={draft} issues={error?.issues ?? []} onChange={setDraft} />
          <div class="field">
            <label for={`${idBase}-comment`}>Comment</label>
            <textarea
              id={`${idBase}-comment`}
              rows={2}
              maxLength={2000}
              value={comment}
              onInput={(e) => setComment((e.target as HTMLTextAreaElement).value)}
            />
          </div>
          <div class="actions">
            <button type="submit" disabled={busy}>
              Complete
            </button>
            <button
              type="button"
              class="secondary"
              disabled={busy}
              onClick={() => act('release', comment ? { comment } : {}, () => 'Released: others of its roles may claim it.')}
            >
              Release
            </button>
          </div>
        </form>
      ) : null}
    </article>
  );
}
