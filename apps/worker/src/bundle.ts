import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import path from 'node:path';

const repoRoot = path.resolve(__dirname, '..', '..', '..');

/**
 * Bundles the workflow code from its TypeScript sources. The bundler (webpack) does not read
 * tsconfig or workspace builds, so `@runbooks/contracts` is aliased to its source here; the
 * worker and the tests both bundle through this one function, with the workflow interceptors
 * the worker's sinks serve (see observability.ts).
 */
export async function bundleRunbookWorkflows(
  workflowsPath = path.join(repoRoot, 'workflows', 'src', 'index.ts'),
): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({
    workflowsPath,
    // Counts runs for the metrics and carries a traced request's trace through the workflow to each
    // activity (workflows/src/interceptors.ts); without an exporter the spans go nowhere.
    workflowInterceptorModules: [path.join(repoRoot, 'workflows', 'src', 'interceptors.ts')],
    logger: quietBundlerLogger,
    webpackConfigHook: (config) => {
      config.resolve = config.resolve ?? {};
      config.resolve.alias = {
        ...(config.resolve.alias as Record<string, string>),
        '@runbooks/contracts': path.join(repoRoot, 'libs', 'contracts', 'src', 'index.ts'),
      };
      return config;
    },
  });
}

const noop = () => undefined;
const quietBundlerLogger = {
  trace: noop,
  debug: noop,
  info: noop,
  warn: (message: string, meta?: unknown) => console.warn(message, meta ?? ''),
  error: (message: string, meta?: unknown) => console.error(message, meta ?? ''),
  log: noop,
};
