import type { GateRecord, HostRecord, RunDetail, StepRecord, WaveRecord } from './api-types';

const STEP_MARK: Record<string, string> = {
  pending: '·',
  running: '>',
  succeeded: '✓',
  failed: '✗',
  skipped: '-',
  compensated: '↺',
};

const BAR_WIDTH = 24;

/** Host counts of one wave: done (patched), failed (failed, rolled back or not), skipped, pending. */
export interface WaveProgress {
  wave: WaveRecord;
  done: number;
  failed: number;
  skipped: number;
  inProgress: number;
}

/** Runs whose host records are in the store give each wave's counts; older runs every host's record. */
export function waveProgress(waves: readonly WaveRecord[], hosts: readonly HostRecord[]): WaveProgress[] {
  return waves.map((wave) => {
    const mine = hosts.filter((h) => h.wave === wave.index);
    const counts = wave.counts as Record<string, number> | undefined;
    const count = (...states: string[]) =>
      counts ? states.reduce((n, s) => n + (counts[s] ?? 0), 0) : mine.filter((h) => states.includes(h.state)).length;
    return {
      wave,
      done: count('patched'),
      failed: count('failed', 'rolled_back', 'rollback_failed'),
      skipped: count('skipped'),
      inProgress: count('patching'),
    };
  });
}

/** `[███████░░░░░░]` for `finished` of `total`. */
export function progressBar(finished: number, total: number, width = BAR_WIDTH): string {
  const filled = total === 0 ? width : Math.min(width, Math.round((finished / total) * width));
  return `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}]`;
}

function stepLine(step: StepRecord): string {
  const tail = step.state === 'failed' && step.error ? `: ${step.error}` : step.summary ? `: ${step.summary}` : '';
  return `${STEP_MARK[step.state] ?? '?'} ${step.title} (${step.state})${tail}`;
}

function gateLine(gate: GateRecord): string {
  const approvals = gate.decisions.filter((d) => d.decision === 'approve').length;
  const who = gate.decisions.map((d) => `${d.decision === 'approve' ? 'approved' : 'rejected'} by ${d.by}`).join(', ');
  const deadline = gate.state === 'pending' && gate.deadline ? `, decide by ${gate.deadline}` : '';
  return `approval ${gate.id}: ${gate.state} (${approvals}/${gate.requiredApprovals} approvals${who ? `; ${who}` : ''}${deadline})`;
}

function waveLine(p: WaveProgress, bar: boolean): string {
  const finished = p.done + p.failed + p.skipped;
  const counts = `${finished}/${p.wave.hosts} hosts: ${p.done} done, ${p.failed} failed${p.skipped ? `, ${p.skipped} skipped` : ''}`;
  return `${p.wave.name.padEnd(8)} ${bar ? `${progressBar(finished, p.wave.hosts)} ` : ''}${counts} (${p.wave.state})`;
}

function rolloutTotals(run: RunDetail): string | undefined {
  const rollout = run.rollout;
  if (!rollout) return undefined;
  const all = waveProgress(rollout.waves, rollout.hosts);
  const sum = (key: 'done' | 'failed' | 'skipped') => all.reduce((n, p) => n + p[key], 0);
  const total = rollout.waves.reduce((n, w) => n + w.hosts, 0);
  const extra = [
    rollout.paused ? 'paused' : undefined,
    rollout.waitingFor ? `waiting for ${rollout.waitingFor}` : undefined,
    rollout.stopReason ? `stopped: ${rollout.stopReason}` : undefined,
  ].filter(Boolean);
  return `hosts: ${sum('done')} done, ${sum('failed')} failed (threshold ${rollout.maxFailures}), ${sum('skipped')} skipped, ${total} in all${extra.length ? `; ${extra.join('; ')}` : ''}`;
}

/** The live view of a run: a header, its steps, its gates, and per-wave progress bars. */
export function progressFrame(run: RunDetail): string[] {
  const lines = [`${run.runId} · ${run.runbook} · ${run.status}`];
  for (const step of run.steps) lines.push(`  ${stepLine(step)}`);
  for (const gate of run.gates) lines.push(`  ${gateLine(gate)}`);
  if (run.rollout) {
    for (const p of waveProgress(run.rollout.waves, run.rollout.hosts)) lines.push(`  ${waveLine(p, true)}`);
    lines.push(`  ${rolloutTotals(run)}`);
  }
  if (run.error) lines.push(`  error: ${run.error}`);
  return lines;
}

/**
 * The same facts as keyed lines, for output that is not a terminal: the watcher prints a line
 * when its value changes, so a log shows each transition once.
 */
export function progressEvents(run: RunDetail): Map<string, string> {
  const events = new Map<string, string>();
  events.set('status', `status: ${run.status}`);
  for (const step of run.steps) events.set(`step:${step.id}`, `step ${stepLine(step)}`);
  for (const gate of run.gates) events.set(`gate:${gate.id}`, gateLine(gate));
  if (run.rollout) {
    for (const p of waveProgress(run.rollout.waves, run.rollout.hosts)) events.set(`wave:${p.wave.index}`, `wave ${waveLine(p, false)}`);
    events.set('hosts', rolloutTotals(run) as string);
  }
  if (run.error) events.set('error', `error: ${run.error}`);
  return events;
}

/** `runs show`: the frame plus who asked, when, and the outcome facts. */
export function describeRun(run: RunDetail): string {
  const lines = [
    `${run.title} ${run.runId}`,
    `  status:       ${run.status} (Temporal: ${run.temporalStatus})`,
    `  requested by: ${run.requestedBy.displayName} (${run.requestedBy.id}) at ${run.requestedAt}`,
  ];
  if (run.endedAt) lines.push(`  ended:        ${run.endedAt}`);
  if (run.cancellation) lines.push(`  cancelled by: ${run.cancellation.by}: ${run.cancellation.reason}`);
  lines.push('steps:', ...run.steps.map((s) => `  ${stepLine(s)}`));
  if (run.gates.length) lines.push('approvals:', ...run.gates.map((g) => `  ${gateLine(g)}`));
  if (run.rollout) {
    lines.push('waves:', ...waveProgress(run.rollout.waves, run.rollout.hosts).map((p) => `  ${waveLine(p, true)}`));
    lines.push(`  ${rolloutTotals(run)}`);
  }
  if (run.outcome && Object.keys(run.outcome).length) {
    lines.push('outcome:', ...Object.entries(run.outcome).map(([k, v]) => `  ${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`));
  }
  if (run.error) lines.push(`error: ${run.error}`);
  return lines.join('\n');
}
