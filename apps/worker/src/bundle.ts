import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import path from 'node:path';

const repoRoot = path.resolve(__dirname, '..', '..', '..');

/**
 * Bundles the workflow code from its TypeScript sources. The bundler (webpack) does not read
 * tsconfig or workspace builds, so `@runbooks/contracts` is aliased to its source here; the
 * worker and the tests both bundle through this one function.
 */
export async function bundleRunbookWorkflows(
  workflowsPath = path.join(repoRoot, 'workflows', 'src', 'index.ts'),
  { preloadModules = PRELOADED_MODULES }: { preloadModules?: string[] } = {},
): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({
    workflowsPath,
    logger: quietBundlerLogger,
    preloadModules,
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

/**
 * Loaded once per worker into the shared V8 context, not once per run: without this every run
 * evaluated zod and every schema of the contracts package again (bench/README.md, parked-runs).
 * Both are safe to share: pure values and functions, nothing per run. The SDK deep-freezes them,
 * so workflow code mutating a definition, a schema or a constant from contracts throws.
 */
export const PRELOADED_MODULES = ['zod', '@runbooks/contracts'];

const noop = () => undefined;
const quietBundlerLogger = {
  trace: noop,
  debug: noop,
  info: noop,
  warn: (message: string, meta?: unknown) => console.warn(message, meta ?? ''),
  error: (message: string, meta?: unknown) => console.error(message, meta ?? ''),
  log: noop,
};
