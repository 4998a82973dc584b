import {
  defaultPayloadConverter,
  workflowInfo,
  type Headers,
  type WorkflowInterceptorsFactory,
  type WorkflowOutboundCallsInterceptor,
} from '@temporalio/workflow';
import { PRINCIPAL_HEADER } from '@runbooks/contracts';
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
  const caller: Caller = {};
  return {
    inbound: [
      {
        // Not async: an extra await here would move the run's completion (see above).
        execute(input, next) {
          caller.principal = principalOf(input.args, input.headers);
          const info = workflowInfo();
          if (!info.continuedFromExecutionRunId) runMetrics.runStarted();
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
    outbound: [principalOutbound(caller), traced.outbound],
    internals: [
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

/** Who the run acts for: its requester's id, once its start is known. */
interface Caller {
  principal?: string;
}

/**
 * The requester of a run (its start arguments' `requestedBy`), or, for a child started without one
 * (a fleet campaign's batch), the principal its parent passed in the start's header.
 */
function principalOf(args: readonly unknown[], headers: Headers): string | undefined {
  const requestedBy = (args[0] as { requestedBy?: { id?: unknown } } | undefined)?.requestedBy;
  if (typeof requestedBy?.id === 'string') return requestedBy.id;
  const header = headers[PRINCIPAL_HEADER];
  const passed = header ? defaultPayloadConverter.fromPayload<unknown>(header) : undefined;
  return typeof passed === 'string' ? passed : undefined;
}

/**
 * The run's principal on each of its log lines, and in a header of each activity and child it
 * starts, so the worker's activity log lines (apps/worker/src/observability.ts) and a batch's carry it
 * too. Not async, so no promise hop is added: headers are not part of the commands replay compares.
 */
function principalOutbound(caller: Caller): WorkflowOutboundCallsInterceptor {
  const withHeader = <I extends { headers: Headers }>(input: I): I =>
    caller.principal
      ? { ...input, headers: { ...input.headers, [PRINCIPAL_HEADER]: defaultPayloadConverter.toPayload(caller.principal) } }
      : input;
  return {
    getLogAttributes: (input, next) => next(caller.principal ? { ...input, principal: caller.principal } : input),
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
