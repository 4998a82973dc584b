import { loadWorkerConfig } from './config';
import { retentionRefusal } from './run-retention';

describe('the worker configuration', () => {
  it('caps the workflow cache at RUNBOOKS_WORKER_MAX_CACHED_WORKFLOWS, and leaves the default to the worker when unset', () => {
    expect(loadWorkerConfig({ RUNBOOKS_WORKER_MAX_CACHED_WORKFLOWS: '250' }).maxCachedWorkflows).toBe(250);
    expect(loadWorkerConfig({}).maxCachedWorkflows).toBeUndefined();
  });

  it('refuses a cache size that is not a whole number of runs', () => {
    expect(() => loadWorkerConfig({ RUNBOOKS_WORKER_MAX_CACHED_WORKFLOWS: '-1' })).toThrow(/maxCachedWorkflows/);
    expect(() => loadWorkerConfig({ RUNBOOKS_WORKER_MAX_CACHED_WORKFLOWS: 'lots' })).toThrow(/maxCachedWorkflows/);
  });
});

describe('the run retention', () => {
  it('keeps ended runs 400 days unless RUNBOOKS_RUN_RETENTION_DAYS says otherwise, 0 for good', () => {
    expect(loadWorkerConfig({}).runRetentionDays).toBe(400);
    expect(loadWorkerConfig({ RUNBOOKS_RUN_RETENTION_DAYS: '30' }).runRetentionDays).toBe(30);
    expect(loadWorkerConfig({ RUNBOOKS_RUN_RETENTION_DAYS: '0' }).runRetentionDays).toBe(0);
  });

  it('refuses a retention that is not a whole number of days', () => {
    expect(() => loadWorkerConfig({ RUNBOOKS_RUN_RETENTION_DAYS: '-5' })).toThrow(/runRetentionDays/);
    expect(() => loadWorkerConfig({ RUNBOOKS_RUN_RETENTION_DAYS: 'a year' })).toThrow(/runRetentionDays/);
  });
});

describe('the run retention against the namespace', () => {
  it('refuses a store retention shorter than the Temporal namespace keeps runs, naming both', () => {
    expect(retentionRefusal(3, 'default', 7 * 86_400)).toMatch(
      /RUNBOOKS_RUN_RETENTION_DAYS=3 is shorter than the retention of the Temporal namespace default \(7 days\)/,
    );
  });

  it('accepts a retention as long as the namespace keeps runs or longer, and 0 (for good)', () => {
    expect(retentionRefusal(7, 'default', 7 * 86_400)).toBeUndefined();
    expect(retentionRefusal(400, 'default', 30 * 86_400)).toBeUndefined();
    expect(retentionRefusal(0, 'default', 30 * 86_400)).toBeUndefined();
  });
});
