import type { Store } from '@runbooks/store';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { hostRecordOf, renderReportMarkdown } from '@runbooks/contracts';
import { writeFileAtomic, writeJsonAtomic } from '../hosts/ledger';
import { currentActivity } from '../activity-context';
import type { RunbookActivities } from '../types';

export type ReportActivities = Pick<RunbookActivities, 'writeReport'>;

/** Long enough for any workflow id we generate, short enough for every filesystem. */
const MAX_NAME_CHARS = 150;

/**
 * Writes the report at the end of a run: into the store (a retried write replaces it and says it was not the first),
 * where the API serves it after the run is gone from Temporal, and as files on the worker.
 */
export function createReportActivities(reportsDir: string, store: Store): ReportActivities {
  return {
    async writeReport({ state }) {
      const firstWrite = await store.reports.put(
        state.runId,
        currentActivity()?.info.workflowExecution?.runId ?? '',
        JSON.stringify(state),
      );
      const base = path.join(reportsDir, reportFileName(state.runId));
      // A fleet run's host-by-host records are in the store, not in its state.
      const hosts = state.rollout?.counts ? (await store.runHosts.all(state.runId)).map(hostRecordOf) : undefined;
      const markdown = renderReportMarkdown(state, hosts);
      const markdownPath = `${base}.md`;
      const jsonPath = `${base}.json`;
      await writeFileAtomic(markdownPath, markdown.endsWith('\n') ? markdown : `${markdown}\n`);
      await writeJsonAtomic(jsonPath, hosts && state.rollout ? { ...state, rollout: { ...state.rollout, hosts } } : state);
      return { firstWrite, markdownPath, jsonPath };
    },
  };
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
