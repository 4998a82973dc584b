import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Store } from '@runbooks/store';
import { minimalRunState } from '../test-support/run-state';
import { storeIn } from '../test-support/store';
import { FILE_SWEEP_EVERY_MS, createReportActivities, removeReportFilesBefore, reportFileName } from './activities';

const stateOf = minimalRunState;

describe('writeReport', () => {
  let reportsDir: string;
  let store: Store;
  beforeEach(() => {
    reportsDir = path.join(mkdtempSync(path.join(os.tmpdir(), 'reports-')), 'reports');
    store = storeIn(path.dirname(reportsDir));
  });
  afterEach(async () => {
    jest.restoreAllMocks();
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

  it('with a retention, removes its report files written before it, and nothing else in the folder', async () => {
    const { writeReport } = createReportActivities(reportsDir, store, { days: 30 });
    const longAgo = new Date('2020-01-01T00:00:00Z');
    writeFiles({ 'old-run.md': longAgo, 'old-run.json': longAgo, 'recent-run.md': new Date(), 'recent-run.json': new Date() });
    // Not a report pair, however old: an operator's own notes, a report half removed by hand.
    writeFiles({ 'notes.txt': longAgo, 'lone-run.md': longAgo, 'half-old.md': longAgo, 'half-old.json': new Date() });
    // The temp files of writes a dead worker cut off (writeFileAtomic's names): the old one goes.
    const tmp = (name: string) => `${name}.4242.0f9a1c3e-5b7d-4e21-9c3a-1d2e3f4a5b6c.tmp`;
    writeFiles({ [tmp('cut-off.json')]: longAgo, [tmp('cut-off-today.md')]: new Date() });

    await writeReport({ state: stateOf('data-restore-10') });

    expect(readdirSync(reportsDir).sort()).toEqual([
      tmp('cut-off-today.md'),
      'data-restore-10.json',
      'data-restore-10.md',
      'half-old.json',
      'half-old.md',
      'lone-run.md',
      'notes.txt',
      'recent-run.json',
      'recent-run.md',
    ]);
  });

  it('sweeps its report files at most once per FILE_SWEEP_EVERY_MS, and not at all without a retention', async () => {
    const longAgo = new Date('2020-01-01T00:00:00Z');
    const start = Date.now();
    let now = start;
    const { writeReport } = createReportActivities(reportsDir, store, { days: 30 }, () => now);
    await writeReport({ state: stateOf('data-restore-11') });
    writeFiles({ 'old-run.md': longAgo, 'old-run.json': longAgo });

    now = start + FILE_SWEEP_EVERY_MS - 1;
    await writeReport({ state: stateOf('data-restore-12') });
    expect(readdirSync(reportsDir)).toContain('old-run.md');
    await createReportActivities(reportsDir, store).writeReport({ state: stateOf('data-restore-13') });
    expect(readdirSync(reportsDir)).toContain('old-run.md');

    now = start + FILE_SWEEP_EVERY_MS;
    await writeReport({ state: stateOf('data-restore-14') });
    expect(readdirSync(reportsDir)).not.toContain('old-run.md');
    expect(readdirSync(reportsDir)).not.toContain('old-run.json');
  });

  it('removes at most the given number of old reports per sweep, and a missing folder is none', async () => {
    const longAgo = new Date('2020-01-01T00:00:00Z');
    writeFiles({ 'a.md': longAgo, 'a.json': longAgo, 'b.md': longAgo, 'b.json': longAgo, 'c.md': longAgo, 'c.json': longAgo });

    expect(await removeReportFilesBefore(reportsDir, Date.now(), 2)).toBe(2);
    expect(readdirSync(reportsDir)).toHaveLength(2);
    expect(await removeReportFilesBefore(reportsDir, Date.now(), 2)).toBe(1);
    expect(readdirSync(reportsDir)).toEqual([]);
    expect(await removeReportFilesBefore(path.join(reportsDir, 'missing'), Date.now(), 2)).toBe(0);
  });

  /** Files in reportsDir, each last written at the time given. */
  function writeFiles(files: Record<string, Date>): void {
    mkdirSync(reportsDir, { recursive: true });
    for (const [name, mtime] of Object.entries(files)) {
      writeFileSync(path.join(reportsDir, name), '{}');
      utimesSync(path.join(reportsDir, name), mtime, mtime);
    }
  }

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
