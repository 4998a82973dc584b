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
