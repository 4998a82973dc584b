import { rolloutCounts, type HostRecord, type RolloutState } from './rollout';
import type { RunState, StepRecord } from './run-state';
import type { TaskRecord } from './tasks';
import { renderIncidentMarkdown, type IncidentRecord } from './incident';

/**
 * The run's report as Markdown, fit to paste into a ticket or a knowledge-base page. A fleet run's
 * host records come from the store (`hosts`); runs from before that carry them in their state.
 */
export function renderReportMarkdown(state: RunState, hosts?: readonly HostRecord[]): string {
  const lines: string[] = [];
  lines.push(`# ${state.title}: ${state.runId}`);
  lines.push('');
  lines.push(`- **Status:** ${state.status}`);
  lines.push(`- **Runbook:** ${state.runbook}`);
  lines.push(`- **Requested by:** ${state.requestedBy.displayName} (${state.requestedBy.id}) at ${state.requestedAt}`);
  if (state.schedule) {
    lines.push(
      `- **Started by schedule:** ${state.schedule.id}${state.schedule.fireTime ? ` (fire time ${state.schedule.fireTime})` : ''}`,
    );
  }
  if (state.endedAt) lines.push(`- **Ended:** ${state.endedAt} (${duration(state.requestedAt, state.endedAt)})`);
  if (state.error) lines.push(`- **Error:** ${state.error}`);
  if (state.pointOfNoReturn) {
    lines.push(
      `- **Point of no return:** ${state.pointOfNoReturn.at}${state.pointOfNoReturn.afterStep ? ` (after ${state.pointOfNoReturn.afterStep})` : ''}; later failures are warnings, not undone`,
    );
  }
  for (const warning of state.warnings ?? []) lines.push(`- **Warning:** ${warning}`);
  if (state.cancellation) {
    lines.push(`- **Cancelled by:** ${state.cancellation.by} at ${state.cancellation.at}: ${state.cancellation.reason}`);
  }
  lines.push('');

  if (state.outcome && Object.keys(state.outcome).length > 0) {
    lines.push('## Outcome', '');
    for (const [key, value] of Object.entries(state.outcome)) lines.push(`- **${key}:** ${formatValue(value)}`);
    lines.push('');
  }

  lines.push('## Steps', '');
  lines.push('| # | Step | State | Started | Ended | Attempts | Result |');
  lines.push('|---|------|-------|---------|-------|----------|--------|');
  state.steps.forEach((step, i) => {
    lines.push(
      `| ${i + 1} | ${cell(step.title)} | ${step.state} | ${step.startedAt ?? ''} | ${step.endedAt ?? ''} | ${step.attempts} | ${cell(stepResult(step))} |`,
    );
  });
  lines.push('');

  if (state.gates.length > 0) {
    lines.push('## Approvals', '');
    for (const gate of state.gates) {
      lines.push(`### ${gate.title} (${gate.id}): ${gate.state}`);
      lines.push('');
      lines.push(`- Allowed roles: ${gate.allowedRoles.join(', ')}; approvals needed: ${gate.requiredApprovals}`);
      if (gate.openedAt) lines.push(`- Opened: ${gate.openedAt}`);
      for (const note of gate.notes ?? []) lines.push(`- ${note}`);
      for (const e of gate.escalations) lines.push(`- Escalated to tier ${e.tier} (${e.contact}) at ${e.at}: ${e.reason}`);
      for (const d of gate.decisions) {
        lines.push(`- **${d.decision}** by ${d.displayName} (${d.by}) at ${d.at}${d.comment ? `: "${d.comment}"` : ''}`);
      }
      if (gate.closedAt) lines.push(`- Closed: ${gate.closedAt}`);
      lines.push('');
    }
  }

  if (state.tasks && state.tasks.length > 0) lines.push(...renderTasks(state.tasks, state.endedAt));

  if (state.rollout) lines.push(...renderRollout(state.rollout, hosts ?? state.rollout.hosts));

  if (state.incident) lines.push(...renderIncidentMarkdown(state.incident as IncidentRecord));

  if (state.compensations.some((c) => c.state !== 'registered')) {
    lines.push('## Undone', '');
    for (const c of state.compensations.filter((c) => c.state !== 'registered')) {
      lines.push(`- ${c.title} (${c.stepId}): ${c.state}${c.at ? ` at ${c.at}` : ''}${c.error ? ` (${c.error})` : ''}`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

function renderTasks(tasks: readonly TaskRecord[], endedAt: string | undefined): string[] {
  const lines = ['## Tasks', ''];
  for (const task of tasks) {
    lines.push(`### ${task.title} (${task.id}): ${task.state}${task.overdue ? ' (overdue)' : ''}`, '');
    lines.push(`- Opened: ${task.openedAt}`);
    for (const e of task.escalations) lines.push(`- Escalated to ${e.contact} (tier ${e.tier}) at ${e.at}: ${e.reason}`);
    for (const h of task.holds) {
      const until = h.until ?? endedAt;
      lines.push(`- Held by ${h.role} from ${h.from}${until ? ` for ${duration(h.from, until)}` : ' (still)'}`);
    }
    for (const e of task.events) lines.push(`- ${e.at} **${e.action}** by ${e.by}${e.detail ? `: ${e.detail}` : ''}`);
    if (task.completedBy) lines.push(`- Completed by ${task.completedBy.displayName} (${task.completedBy.id}) at ${task.closedAt ?? ''}`);
    for (const [field, value] of Object.entries(task.evidence ?? {})) lines.push(`- Evidence **${field}:** ${formatValue(value)}`);
    lines.push('');
  }
  return lines;
}

function renderRollout(rollout: RolloutState, hosts: readonly HostRecord[]): string[] {
  const lines = ['## Rollout', ''];
  const counts = rolloutCounts(rollout);
  lines.push(
    `- **Hosts:** ${Object.values(counts).reduce((a, b) => a + b, 0)} (${Object.entries(counts)
      .filter(([, n]) => n > 0)
      .map(([s, n]) => `${n} ${s}`)
      .join(', ')})`,
  );
  lines.push(`- **Failures:** ${rollout.failures} (at most ${rollout.maxFailures} tolerated)`);
  if (rollout.stopReason) lines.push(`- **Stopped:** ${rollout.stopReason}`);
  lines.push('', '| Wave | Hosts | State | Started | Ended |', '|------|-------|-------|---------|-------|');
  for (const w of rollout.waves) lines.push(`| ${w.name} | ${w.hosts} | ${w.state} | ${w.startedAt ?? ''} | ${w.endedAt ?? ''} |`);
  lines.push('');
  if (rollout.operatorActions.length > 0) {
    lines.push('### Operator actions', '');
    for (const a of rollout.operatorActions) lines.push(`- ${a.at} **${a.action}** by ${a.by}: ${a.detail}`);
    lines.push('');
  }
  lines.push('### Host by host', '', '| Host | Wave | State | Snapshot | Note |', '|------|------|-------|----------|------|');
  for (const h of hosts) {
    lines.push(`| ${h.name} | ${rollout.waves[h.wave]?.name ?? h.wave} | ${h.state} | ${h.snapshotId ?? ''} | ${cell(h.error ?? '')} |`);
  }
  lines.push('');
  return lines;
}

function stepResult(step: StepRecord): string {
  if (step.error) return `error: ${step.error}`;
  return step.summary ?? '';
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function formatValue(value: unknown): string {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  return '`' + JSON.stringify(value) + '`';
}

function duration(from: string, to: string): string {
  const ms = Date.parse(to) - Date.parse(from);
  if (!Number.isFinite(ms) || ms < 0) return 'unknown duration';
  const s = Math.round(ms / 1000);
  return s < 120 ? `${s} s` : `${Math.round(s / 60)} min`;
}
