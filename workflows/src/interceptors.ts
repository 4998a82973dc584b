import {
  defaultPayloadConverter,
  workflowInfo,
  type Headers,
  type Payload,
  type WorkflowInterceptorsFactory,
  type WorkflowInternalsInterceptor,
  type WorkflowOutboundCallsInterceptor,
} from '@temporalio/workflow';
import { RUNBOOKS, RUN_CONTEXT_HEADER, type RunContext } from '@runbooks/contracts';
import type { interceptors as openTelemetryFactory } from '@temporalio/interceptors-opentelemetry/lib/workflow-interceptors';
import { runMetrics } from './engine/run-metrics';
import { publishCopiesAtActivationEnd, publishDueCopies } from './engine/status-copy';
import { limitSandboxStackTraces } from './engine/stack-traces';

export type { RunMetricsSinks } from './engine/run-metrics';

// This module is loaded only in the workflow sandbox (apps/worker/src/bundle.ts preloads it once per worker).
limitSandboxStackTraces();

/** The header the API's OpenTelemetry client interceptor puts on a start (the SDK's TRACE_HEADER). */
const TRACE_HEADER = '_tracer-data';

/**
 * Counts a run when its first execution starts (not a continue-as-new; the worker leaves out fleet batch children),
 * publishes its status copy once per activation, and traces it with the SDK's OpenTelemetry interceptors only when its start carried a trace.
 * Those interceptors add promise hops around activity results and update handlers; in a history
 * recorded without them that reorders commands (a nondeterminism error on replay). A run started
 * before tracing existed has no trace header, so it replays exactly as it was recorded.
 */
export const interceptors: WorkflowInterceptorsFactory = () => {
  publishCopiesAtActivationEnd();
  // Without methods unless the run is traced: the SDK skips an interceptor that lacks the method it
  // calls, so an untraced run crosses no frame of these, and the stack the SDK's promise hook
  // captures for each of the run's promises is that much shorter.
  const traced = { inbound: {}, outbound: {}, internals: {} };
  const context: RunContext = {};
  const first: WorkflowInternalsInterceptor = {
    // The run's context is read from its start (the InitializeWorkflow job, first in the run's
    // first activation) before the SDK handles any job: its own "Workflow started" line, and an
    // update that arrives with the start, are logged before `execute` sees the arguments. Then the
    // method goes: the SDK composes each call's chain anew and skips an interceptor without it, so
    // the run's later activations cross no frame of it.
    activate(input, next) {
      const start = input.activation.jobs?.[0]?.initializeWorkflow;
      if (start) Object.assign(context, runContextOf(workflowInfo().workflowType, start.arguments ?? [], start.headers ?? {}));
      delete first.activate;
      return next(input);
    },
  };
  return {
    inbound: [
      {
        // Not async: an extra await here would move the run's completion (see above).
        execute(input, next) {
          if (!workflowInfo().continuedFromExecutionRunId) runMetrics.runStarted();
          if (!carriesTrace(input.headers[TRACE_HEADER])) return next(input);
          const otel = loadOpenTelemetryInterceptors();
          // The SDK composes the interceptors of each call as it makes it: later calls include these.
          forwardTraced(traced.inbound, otel.inbound?.[0]);
          forwardTraced(traced.outbound, otel.outbound?.[0]);
          forwardTraced(traced.internals, otel.internals?.[0]);
          // This call's own chain was composed before the run was known to be traced.
          const execute = otel.inbound?.[0]?.execute;
          return execute ? execute.call(otel.inbound?.[0], input, next) : next(input);
        },
      },
      traced.inbound,
    ],
    outbound: [runContextOutbound(context), traced.outbound],
    internals: [
      first,
      {
        // A run's status copy goes out once, as its activation ends (engine/status-copy.ts).
        concludeActivation(input, next) {
          publishDueCopies();
          return next(input);
        },
      },
      traced.internals,
    ],
  };
};

/** The catalog's runbook names by workflow type (a fleet batch's type is none of them). */
const RUNBOOK_NAMES = new Map(RUNBOOKS.map((r) => [r.workflowType, r.name]));

/**
 * The run's context, with only the fields it knows: its principal is its requester (the start arguments' `requestedBy`), its
 * runbook its own; a child started without a requester, or that is no runbook itself (a fleet
 * campaign's batch), takes what its parent passed in the start's header.
 */
function runContextOf(workflowType: string, args: readonly Payload[], headers: Headers): RunContext {
  const header = headers[RUN_CONTEXT_HEADER];
  const passed = (header ? defaultPayloadConverter.fromPayload<RunContext | null>(header) : undefined) ?? {};
  const first = args[0] ? defaultPayloadConverter.fromPayload<{ requestedBy?: { id?: unknown } } | null>(args[0]) : undefined;
  const requestedBy = first?.requestedBy;
  const principal = typeof requestedBy?.id === 'string' ? requestedBy.id : passed.principal;
  const runbook = RUNBOOK_NAMES.get(workflowType) ?? passed.runbook;
  return { ...(principal ? { principal } : {}), ...(runbook ? { runbook } : {}) };
}

/**
 * The run's principal and runbook on each of its log lines, and in a header of each activity and
 * child it starts, so the worker's lines and step metrics about them carry them too (a fleet
 * campaign's batches and host steps: their campaign's). Not async, so no promise hop is added:
 * headers are not part of the commands replay compares.
 */
function runContextOutbound(context: RunContext): WorkflowOutboundCallsInterceptor {
  // Encoded once, at the run's first call: the context is set as the run starts and never changes.
  let header: Headers | undefined;
  const withHeader = <I extends { headers: Headers }>(input: I): I => {
    if (!context.principal && !context.runbook) return input;
    header ??= { [RUN_CONTEXT_HEADER]: defaultPayloadConverter.toPayload(context) };
    return { ...input, headers: { ...input.headers, ...header } };
  };
  return {
    getLogAttributes: (input, next) => next({ ...input, ...context }),
    scheduleActivity: (input, next) => next(withHeader(input)),
    scheduleLocalActivity: (input, next) => next(withHeader(input)),
    startChildWorkflowExecution: (input, next) => next(withHeader(input)),
  };
}

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

/** Gives `to` the methods of the SDK's OpenTelemetry interceptor `from`, except execute (called directly) and UNTRACED. */
function forwardTraced(to: object, from: object | undefined): void {
  if (!from) return;
  for (const property of Object.getOwnPropertyNames(Object.getPrototypeOf(from))) {
    const method = Reflect.get(from, property) as unknown;
    if (property === 'constructor' || property === 'execute' || UNTRACED.has(property) || typeof method !== 'function') continue;
    Reflect.set(to, property, (method as (...a: unknown[]) => unknown).bind(from));
  }
}
