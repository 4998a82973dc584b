import {
  defaultPayloadConverter,
  proxySinks,
  workflowInfo,
  type Sinks,
  type WorkflowInterceptors,
  type WorkflowInterceptorsFactory,
} from '@temporalio/workflow';
import type { interceptors as openTelemetryFactory } from '@temporalio/interceptors-opentelemetry/lib/workflow-interceptors';
import { publishCopiesAtActivationEnd, publishDueCopies } from './engine/status-copy';

/**
 * The worker's metrics sink (apps/worker/src/observability.ts): workflow code cannot reach a metrics
 * library, but a sink runs in the worker outside the sandbox, and never during replay, so
 * replaying a run's history does not count it again (a first workflow task that a killed worker
 * never completed runs again, not as replay, and counts it twice: the counter is approximate).
 */
export interface RunMetricsSinks extends Sinks {
  runMetrics: { runStarted(): void };
}

const { runMetrics } = proxySinks<RunMetricsSinks>();

/** The header the API's OpenTelemetry client interceptor puts on a start (the SDK's TRACE_HEADER). */
const TRACE_HEADER = '_tracer-data';

/**
 * Counts a run when its first execution starts (not a continue-as-new, not a fleet batch child),
 * publishes its status copy once per activation, and traces it with the SDK's OpenTelemetry interceptors only when its start carried a trace.
 * Those interceptors add promise hops around activity results and update handlers; in a history
 * recorded without them that reorders commands (a nondeterminism error on replay). A run started
 * before tracing existed has no trace header, so it replays exactly as it was recorded.
 */
export const interceptors: WorkflowInterceptorsFactory = () => {
  publishCopiesAtActivationEnd();
  const traced = { on: false };
  let otel: OpenTelemetryInterceptors | undefined;
  const tracing = () => (otel ??= loadOpenTelemetryInterceptors());
  const inbound: NonNullable<WorkflowInterceptors['inbound']> = [
    {
      // Not async: an extra await here would move the run's completion (see above).
      execute(input, next) {
        const info = workflowInfo();
        traced.on = carriesTrace(input.headers[TRACE_HEADER]);
        if (!info.continuedFromExecutionRunId && !info.parent) runMetrics.runStarted();
        return next(input);
      },
    },
    onlyWhen(traced, () => tracing().inbound?.[0]),
  ];
  return {
    inbound,
    outbound: [onlyWhen(traced, () => tracing().outbound?.[0])],
    internals: [
      {
        // A run's status copy goes out once, as its activation ends (engine/status-copy.ts).
        concludeActivation(input, next) {
          publishDueCopies();
          return next(input);
        },
      },
      onlyWhen(traced, () => tracing().internals?.[0]),
    ],
  };
};

type OpenTelemetryInterceptors = ReturnType<typeof openTelemetryFactory>;

/**
 * The SDK's OpenTelemetry workflow interceptors (one inbound, one outbound, one internals), built
 * the first time a traced run calls them. Required lazily: OpenTelemetry reads the run's
 * `performance` when its modules load, so they cannot be preloaded with this module
 * (apps/worker/src/bundle.ts), and an untraced run, nearly all of them, never evaluates them.
 */
function loadOpenTelemetryInterceptors(): OpenTelemetryInterceptors {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { interceptors: create } = require('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors') as {
    interceptors: typeof openTelemetryFactory;
  };
  return create();
}

/**
 * Only a run started with a trace context is traced: the API installs its tracing client
 * interceptor only while tracing is on, so other runs have no header; a header whose carrier holds
 * no trace (a client whose tracer is off) counts as none. Untraced runs skip the spans' cost per step.
 */
function carriesTrace(header: Parameters<typeof defaultPayloadConverter.fromPayload>[0] | undefined): boolean {
  if (!header) return false;
  const carrier = defaultPayloadConverter.fromPayload<Record<string, unknown> | null>(header);
  return typeof carrier?.traceparent === 'string';
}

/**
 * Never traced: a span draws on the workflow's seeded random numbers, and replay runs no query
 * handler and no update validator, so a span made there shifts every later uuid4() of the replay
 * (a nondeterminism error; temporalio/sdk-typescript#2023).
 */
const UNTRACED = new Set<PropertyKey>(['handleQuery', 'validateUpdate']);

/**
 * An interceptor whose methods are `target()`'s while `gate.on` (except UNTRACED); otherwise, or
 * where `target()` lacks the method, each passes straight to `next`. `target` is only called
 * while the gate is on, so an untraced run never builds the OpenTelemetry interceptors.
 */
function onlyWhen<T extends object>(gate: { on: boolean }, target: () => object | undefined): T {
  return new Proxy({} as T, {
    get(_object, property) {
      // Not a thenable, and no symbol-keyed hooks: only interceptor method names answer.
      if (typeof property !== 'string' || property === 'then') return undefined;
      if (UNTRACED.has(property)) return (input: unknown, next: (input: unknown) => unknown) => next(input);
      return (input: unknown, next: (input: unknown) => unknown) => {
        const object = gate.on ? target() : undefined;
        const method = object ? (Reflect.get(object, property) as unknown) : undefined;
        return typeof method === 'function' ? (method as (i: unknown, n: typeof next) => unknown).call(object, input, next) : next(input);
      };
    },
  });
}
