import { loadWorkerConfig } from './config';

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
