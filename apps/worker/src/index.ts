export { withAttemptEnvelopes } from './attempt-envelope';
export { bundleRunbookWorkflows } from './bundle';
export { loadWorkerConfig, type WorkerConfig } from './config';
export {
  DEFAULT_MAX_CACHED_WORKFLOWS,
  createRunbookWorker,
  workerSinks,
  type RunbookWorker,
  type RunbookWorkerOptions,
} from './create-worker';
export { observabilityInterceptors, observabilitySinks, runbookOf, type WorkerObservability } from './observability';
