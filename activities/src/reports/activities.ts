import type { Context } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/common';
import type { Store } from '@runbooks/store';
import { createHash } from 'node:crypto';
import { lstat, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { TERMINAL_RUN_STATUSES, hostRecordOf, renderReportMarkdown } from '@runbooks/contracts';
import { ATOMIC_WRITE_TEMP, writeFileAtomic, writeJsonAtomic } from '../hosts/ledger';
import { currentActivity } from '../activity-context';
import type { RunbookActivities } from '../types';

export type ReportActivities = Pick<RunbookActivities, 'writeReport'>;

/** Long enough for any workflow id we generate, short enough for every filesystem. */
const MAX_NAME_CHARS = 150;

/**
 * Runs forgotten per report written, at most (and about 20,000 host rows, in short transactions:
 * ReportRepository.pruneEndedBefore): the store shrinks a bounded step per run that ends, never in one long delete.
 */
export const PRUNE_BATCH = 100;

/**
 * Runs whose copy never ended (terminated or timed out from outside) asked about per report
 * written, at most: each is a describe call to Temporal. Those never asked come first and those
 * found open go to the back, so runs left open for good never keep the others from being asked.
 */
export const IDLE_CHECKS = 20;

/**
 * A worker sweeps its own report files (RUNBOOKS_REPORTS_DIR, on its machine) for those older than
 * the retention at most this often: each sweep reads the whole folder. Per process, as the files
 * are: a second worker process on the machine sweeping too only finds less to remove.
 */
export const FILE_SWEEP_EVERY_MS = 3_600_000;

/** Reports (a .md and .json pair) a sweep removes at most; one that removed that many sweeps again with the next report. */
export const FILE_SWEEP_BATCH = 1_000;

/**
 * Writes the report at the end of a run: into the store (a retried write replaces it and says it was not the first),
 * where the API serves it after the run is gone from Temporal, and as files on the worker.
 * With a retention, each report written then forgets up to PRUNE_BATCH runs that ended longer ago
 * than that (report, status copy and host rows; the audit log stays): runs that end drive the
 * pruning, so no replica needs a timer of its own, and the store stops growing with the runs kept.
 * The worker's own report files past the retention go the same way (removeReportFilesBefore).
 */
export function createReportActivities(
  reportsDir: string,
  store: Store,
  retention?: { days: number },
  clock: () => number = Date.now,
): ReportActivities {
  /** The retention's cutoff at `now`: runs ended, and report files written, before it go. */
  const cutoffAt = (now: number, days: number) => now - days * 86_400_000;
  const prune = async () => {
    if (!retention) return;
    const cutoff = new Date(cutoffAt(clock(), retention.days)).toISOString();
    try {
      const forgotten = await store.reports.pruneEndedBefore(cutoff, TERMINAL_RUN_STATUSES, PRUNE_BATCH);
      forgotten.push(...(await forgetEndedOutside(store, cutoff)));
      if (forgotten.length > 0)
        currentActivity()?.log.info('forgot runs past the retention', { runs: forgotten.length, endedBefore: cutoff });
    } catch (error) {
      // The report is written; a prune that failed is tried again when the next run ends.
      currentActivity()?.log.warn('could not prune runs past the retention', { error: (error as Error).message });
    }
  };
  let sweptAt = Number.NEGATIVE_INFINITY;
  const sweepFiles = async () => {
    const now = clock();
    if (!retention || now - sweptAt < FILE_SWEEP_EVERY_MS) return;
    // Taken before the scan: reports that end while it runs do not start sweeps of their own.
    sweptAt = now;
    try {
      const removed = await removeReportFilesBefore(reportsDir, cutoffAt(now, retention.days), FILE_SWEEP_BATCH);
      // More than one sweep's worth: the next report sweeps again rather than an interval later.
      if (removed >= FILE_SWEEP_BATCH) sweptAt = Number.NEGATIVE_INFINITY;
      if (removed > 0) currentActivity()?.log.info('removed report files past the retention', { removed, reportsDir });
    } catch (error) {
      // The folder could not be read: tried again an interval later.
      currentActivity()?.log.warn('could not remove report files past the retention', { error: (error as Error).message });
    }
  };
  return {
    async writeReport({ state }) {
      const firstWrite = await store.reports.put(
        state.runId,
        currentActivity()?.info.workflowExecution?.runId ?? '',
        JSON.stringify(state),
        { runbook: state.runbook, outcome: state.status },
      );
      const base = path.join(reportsDir, reportFileName(state.runId));
      // A fleet run's host-by-host records are in the store, not in its state.
      const hosts = state.rollout?.counts ? (await store.runHosts.all(state.runId)).map(hostRecordOf) : undefined;
      const markdown = renderReportMarkdown(state, hosts);
      const markdownPath = `${base}.md`;
      const jsonPath = `${base}.json`;
      await writeFileAtomic(markdownPath, markdown.endsWith('\n') ? markdown : `${markdown}\n`);
      await writeJsonAtomic(jsonPath, hosts && state.rollout ? { ...state, rollout: { ...state.rollout, hosts } } : state);
      await prune();
      await sweepFiles();
      return { firstWrite, markdownPath, jsonPath };
    },
  };
}

/**
 * Runs idle past the retention whose status copy never ended: a run terminated or timed out from
 * outside publishes no last copy and writes no report. Forgotten once Temporal says the run is
 * closed, or no longer knows it (the namespace forgot it first); a run still open, however long it
 * waits, is kept. Asks through the worker's client (the activity's context); none, none forgotten.
 */
async function forgetEndedOutside(store: Store, cutoff: string): Promise<string[]> {
  const client = workerClient();
  if (!client) return [];
  const idle = await store.reports.unendedIdleBefore(cutoff, TERMINAL_RUN_STATUSES, IDLE_CHECKS);
  const closed: string[] = [];
  const open: string[] = [];
  for (const runId of idle) {
    try {
      const { status } = await client.workflow.getHandle(runId).describe();
      (status.name === 'RUNNING' ? open : closed).push(runId);
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError)) throw error;
      closed.push(runId);
    }
  }
  await store.reports.checkedOpen(open, new Date().toISOString());
  return store.reports.forget(closed, undefined, cutoff);
}

/**
 * Removes the reports in `dir` (a <name>.md and <name>.json pair, as writeReport leaves them) whose
 * two files were both last written before `cutoffMs`, and the temp files of writes cut off then
 * (writeFileAtomic's <name>.md|json.<pid>.<uuid>.tmp), at most `max` of them together; anything
 * else in the folder stays. A file that cannot be removed is left for a later sweep. Returns how
 * many reports and temp files went.
 */
export async function removeReportFilesBefore(dir: string, cutoffMs: number, max: number): Promise<number> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
  const present = new Set(names);
  let removed = 0;
  for (const name of names) {
    if (removed >= max) break;
    const base = name.endsWith('.json') ? name.slice(0, -'.json'.length) : undefined;
    const files = base !== undefined && present.has(`${base}.md`) ? [name, `${base}.md`] : isReportWriteTemp(name) ? [name] : [];
    if (files.length === 0) continue;
    const paths = files.map((file) => path.join(dir, file));
    const stats = await Promise.all(paths.map((file) => lstat(file).catch(() => undefined)));
    if (!stats.every((stat) => stat?.isFile() && stat.mtimeMs < cutoffMs)) continue;
    // A report written for the same run id between the lstat and here (an id reused after the
    // retention) would go with it: it is in the store still, which is what the API serves.
    const results = await Promise.allSettled(paths.map((file) => rm(file, { force: true })));
    if (results.every((result) => result.status === 'fulfilled')) removed++;
  }
  return removed;
}

/** writeFileAtomic's temp file of a report's .md or .json, left behind when its worker died mid-write. */
function isReportWriteTemp(name: string): boolean {
  const match = ATOMIC_WRITE_TEMP.exec(name);
  return match !== null && /\.(md|json)$/.test(name.slice(0, match.index));
}

/** The running activity's Temporal client (the worker's); undefined outside an activity or without one. */
function workerClient(): Context['client'] | undefined {
  try {
    return currentActivity()?.client;
  } catch {
    return undefined; // a mock activity environment created without a client
  }
}

/**
 * The run id as a file name: characters other than letters, digits, '.', '_' and '-' become '_'
 * and leading dots go. When that changed anything, a hash of the real id is appended so two ids
 * that differ only in such characters never share a report.
 */
export function reportFileName(runId: string): string {
  const safe = runId
    .replace(/[^A-Za-z0-9._-]/g, '_')
    .replace(/^\.+/, '')
    .slice(0, MAX_NAME_CHARS);
  if (safe && safe === runId) return safe;
  return `${safe}-${createHash('sha256').update(runId).digest('hex').slice(0, 12)}`;
}

/** Readers see the previous file or the new one, never a half-written one. */
