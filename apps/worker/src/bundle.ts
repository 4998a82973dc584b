import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import path from 'node:path';

const repoRoot = path.resolve(__dirname, '..', '..', '..');
/** Our workflow interceptors (metrics, tracing): preloaded too; they load OpenTelemetry's modules only for a traced run. */
const INTERCEPTORS_MODULE = path.join(repoRoot, 'workflows', 'src', 'interceptors.ts');

/**
 * Bundles the workflow code from its TypeScript sources. The bundler (webpack) does not read
 * tsconfig or workspace builds, so `@runbooks/contracts` is aliased to its source here; the
 * worker and the tests both bundle through this one function, with the workflow interceptors
 * the worker's sinks serve (see observability.ts). `preloadModules` (default: zod, contracts and
 * the workflows themselves, see PRELOADED_MODULES) are loaded once per worker.
 */
export async function bundleRunbookWorkflows(
  workflowsPath = path.join(repoRoot, 'workflows', 'src', 'index.ts'),
  {
    preloadModules = [...PRELOADED_MODULES, INTERCEPTORS_MODULE, workflowsPath],
    interceptors = true,
  }: {
    preloadModules?: string[];
    /** false: without the runbook interceptors, for the benches' bare-SDK baselines. */
    interceptors?: boolean;
  } = {},
): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({
    workflowsPath,
    // Counts runs for the metrics and carries a traced request's trace through the workflow to each
    // activity (workflows/src/interceptors.ts); without an exporter the spans go nowhere.
    workflowInterceptorModules: interceptors ? [INTERCEPTORS_MODULE] : [],
    logger: quietBundlerLogger,
    // The interceptors module is always preloaded when it is used: it sets the sandbox's stack trace
    // limit (workflows/src/engine/stack-traces.ts), which must happen before the SDK freezes the globals.
    preloadModules: interceptors
      ? [...new Set([...preloadModules, INTERCEPTORS_MODULE])]
      : preloadModules.filter((m) => m !== INTERCEPTORS_MODULE),
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
 * evaluated zod, every schema of the contracts package and every workflow module again
 * (bench/README.md, parked-runs: 4.8 MB and about a second of CPU per run). They are safe to
 * share because they keep nothing per run at module level: a run's state lives in the objects
 * its workflow function creates, and the SDK reads the current run's context at each call.
 * The SDK deep-freezes shared modules, so code mutating an imported constant throws; module
 * code must not call workflow APIs at load time (there is no run yet), only inside functions.
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
