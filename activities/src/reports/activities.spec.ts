import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createReportActivities, reportFileName } from './activities';

describe('writeReport', () => {
  let reportsDir: string;
  beforeEach(() => {
    reportsDir = path.join(mkdtempSync(path.join(os.tmpdir(), 'reports-')), 'reports');
  });
  afterEach(() => rmSync(path.dirname(reportsDir), { recursive: true, force: true }));

  it('writes <runId>.md and <runId>.json and leaves no temporary files', async () => {
    const { writeReport } = createReportActivities(reportsDir);

    const result = await writeReport({ runId: 'data-restore-42', markdown: '# Report', json: { status: 'succeeded' } });

    expect(result).toEqual({
      markdownPath: path.join(reportsDir, 'data-restore-42.md'),
      jsonPath: path.join(reportsDir, 'data-restore-42.json'),
    });
    expect(readFileSync(result.markdownPath, 'utf8')).toBe('# Report\n');
    expect(JSON.parse(readFileSync(result.jsonPath, 'utf8'))).toEqual({ status: 'succeeded' });
    expect(readdirSync(reportsDir).sort()).toEqual(['data-restore-42.json', 'data-restore-42.md']);
  });

  it('replaces the report when written again for the same run', async () => {
    const { writeReport } = createReportActivities(reportsDir);

    await writeReport({ runId: 'run-1', markdown: 'first', json: { n: 1 } });
    const result = await writeReport({ runId: 'run-1', markdown: 'second', json: { n: 2 } });

    expect(readFileSync(result.markdownPath, 'utf8')).toBe('second\n');
    expect(readdirSync(reportsDir)).toHaveLength(2);
  });

  it('keeps a hostile run id inside reportsDir', async () => {
    const { writeReport } = createReportActivities(reportsDir);

    const result = await writeReport({ runId: '../../etc/passwd', markdown: 'x', json: {} });

    expect(path.dirname(result.markdownPath)).toBe(reportsDir);
    expect(path.basename(result.markdownPath)).toMatch(/^_.._etc_passwd-[0-9a-f]{12}\.md$/);
  });

  it('gives ids that differ only in unsafe characters different file names', () => {
    expect(reportFileName('run/1')).not.toBe(reportFileName('run:1'));
    expect(reportFileName('run-1')).toBe('run-1');
  });
});
