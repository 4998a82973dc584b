import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Store } from '@runbooks/store';
import { minimalRunState } from '../test-support/run-state';
import { storeIn } from '../test-support/store';
import { createReportActivities, reportFileName } from './activities';

const stateOf = minimalRunState;

describe('writeReport', () => {
  let reportsDir: string;
  let store: Store;
  beforeEach(() => {
    reportsDir = path.join(mkdtempSync(path.join(os.tmpdir(), 'reports-')), 'reports');
    store = storeIn(path.dirname(reportsDir));
  });
  afterEach(async () => {
    await store.close();
    rmSync(path.dirname(reportsDir), { recursive: true, force: true });
  });

  it('stores the report in the store, where the API finds it after the run is gone from Temporal', async () => {
    const { writeReport } = createReportActivities(reportsDir, store);

    await writeReport({ state: stateOf('data-restore-7', 'failed') });

    expect(JSON.parse((await store.reports.get('data-restore-7'))?.body ?? 'null')).toEqual(stateOf('data-restore-7', 'failed'));
  });

  it('with a retention, forgets the runs that ended before it as it writes a report, and keeps the report it wrote', async () => {
    const { writeReport } = createReportActivities(reportsDir, store, { days: 30 });
    await store.ready();
    // A run that ended long ago: its report and status copy as a worker left them then.
    await store.db
      .insertInto('run_reports')
      .values({ workflow_id: 'old-run', run_id: 'r', created_at: '2020-01-01T00:00:00.000Z', body: '{}' })
      .execute();
    await store.db
      .insertInto('run_status')
      .values({ run_id: 'old-run', status: 'succeeded', version: '1', updated_at: '2020-01-01T00:00:00.000Z', body: '{}' })
      .execute();

    await writeReport({ state: stateOf('data-restore-8') });

    expect(await store.reports.get('old-run')).toBeUndefined();
    expect(await store.runStatus.get('old-run')).toBeUndefined();
    expect(await store.reports.get('data-restore-8')).toBeDefined();
  });

  it('writes the report even when the prune fails (the next run to end tries again)', async () => {
    const { writeReport } = createReportActivities(reportsDir, store, { days: 30 });
    jest.spyOn(store.reports, 'pruneEndedBefore').mockRejectedValue(new Error('database is locked'));

    const result = await writeReport({ state: stateOf('data-restore-9') });

    expect(result.firstWrite).toBe(true);
    expect(await store.reports.get('data-restore-9')).toBeDefined();
  });

  it('writes <runId>.md and <runId>.json and leaves no temporary files', async () => {
    const { writeReport } = createReportActivities(reportsDir, store);

    const result = await writeReport({ state: stateOf('data-restore-42') });

    expect(result).toEqual({
      firstWrite: true,
      markdownPath: path.join(reportsDir, 'data-restore-42.md'),
      jsonPath: path.join(reportsDir, 'data-restore-42.json'),
    });
    expect(readFileSync(result.markdownPath, 'utf8')).toContain('# Data restore: data-restore-42\n');
    expect(JSON.parse(readFileSync(result.jsonPath, 'utf8'))).toEqual(stateOf('data-restore-42'));
    expect(readdirSync(reportsDir).sort()).toEqual(['data-restore-42.json', 'data-restore-42.md']);
  });

  it('replaces the report when written again for the same run', async () => {
    const { writeReport } = createReportActivities(reportsDir, store);

    expect((await writeReport({ state: stateOf('run-1', 'running') })).firstWrite).toBe(true);
    const result = await writeReport({ state: stateOf('run-1', 'failed') });

    expect(result.firstWrite).toBe(false);
    expect(readFileSync(result.markdownPath, 'utf8')).toContain('- **Status:** failed');
    expect(readdirSync(reportsDir)).toHaveLength(2);
  });

  it('keeps a hostile run id inside reportsDir', async () => {
    const { writeReport } = createReportActivities(reportsDir, store);

    const result = await writeReport({ state: stateOf('../../etc/passwd') });

    expect(path.dirname(result.markdownPath)).toBe(reportsDir);
    expect(path.basename(result.markdownPath)).toMatch(/^_.._etc_passwd-[0-9a-f]{12}\.md$/);
  });

  it('gives ids that differ only in unsafe characters different file names', () => {
    expect(reportFileName('run/1')).not.toBe(reportFileName('run:1'));
    expect(reportFileName('run-1')).toBe('run-1');
  });
});
