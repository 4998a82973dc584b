import type { Context as ActivityContext } from '@temporalio/activity';
import type {
  ActivityExecuteInput,
  ActivityInboundCallsInterceptor,
  ActivityInterceptorsFactory,
  InjectedSinks,
  Next,
  WorkerOptions,
} from '@temporalio/worker';
import {
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  makeWorkflowExporter,
  type OpenTelemetrySinks,
} from '@temporalio/interceptors-opentelemetry';
import { NoopSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Resource } from '@opentelemetry/resources';
import { defaultPayloadConverter, type Headers } from '@temporalio/common';
import { RUNBOOKS, RUN_CONTEXT_HEADER, type RunContext } from '@runbooks/contracts';
import { logActivityStarted, type RunbookMetrics, type Tracing, type WriteReportInput, type WriteReportResult } from '@runbooks/activities';
import type { RunMetricsSinks } from '@runbooks/workflows';

/** What the worker records and where its spans go; each part is optional. */
export interface WorkerObservability {
  metrics?: RunbookMetrics;
  /** Spans of workflows and activities; without it, workflow spans are dropped and activities make none. */
  tracing?: Tracing;
}

const runbookByWorkflowType = new Map(RUNBOOKS.map((r) => [r.workflowType, r.name]));

/** The catalog's runbook name (the label every metric uses); a fleet batch child keeps its workflow type. */
export function runbookOf(workflowType: string | undefined): string {
  return (workflowType && runbookByWorkflowType.get(workflowType)) ?? workflowType ?? 'unknown';
}

/** The sinks the bundled workflow interceptors call (workflows/src/interceptors.ts, and OpenTelemetry's). */
export function observabilitySinks(observability: WorkerObservability = {}): InjectedSinks<RunMetricsSinks & OpenTelemetrySinks> {
  const { metrics, tracing } = observability;
  return {
    runMetrics: {
      runStarted: {
        fn(info) {
          // A child that is a runbook of the catalog (software-conflict's software-fix) is a run like any;
          // a fleet campaign's batch children are parts of their parent's run.
          if (info.parent && !runbookByWorkflowType.has(info.workflowType)) return;
          const trigger = info.parent ? 'parent' : info.searchAttributes?.TemporalScheduledById ? 'schedule' : 'api';
          metrics?.runsStarted.inc({ runbook: runbookOf(info.workflowType), trigger });
        },
      },
      slaBreached: {
        fn(info, kind, tier) {
          metrics?.slaBreaches.inc({ runbook: runbookOf(info.workflowType), kind, tier });
        },
      },
    },
    exporter: makeWorkflowExporter(
      tracing?.spanProcessor ?? new NoopSpanProcessor(),
      tracing?.resource ?? new Resource({ 'service.name': 'runbooks-worker' }),
    ),
  };
}

/** Activity interceptors: spans for the traces; the run's principal and runbook on the log lines, step durations and run outcomes for the metrics. */
export function observabilityInterceptors(observability: WorkerObservability = {}): NonNullable<WorkerOptions['interceptors']> {
  const activity: ActivityInterceptorsFactory[] = [];
  const { metrics, tracing } = observability;
  if (tracing) {
    activity.push((ctx) => ({
      inbound: new OpenTelemetryActivityInboundInterceptor(ctx, { tracer: tracing.tracer }),
      outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
    }));
  }
  activity.push((ctx) => runContextInterceptors(ctx, metrics));
  return { activity };
}

/** The context the activity's run passed in its header (workflows/src/interceptors.ts): empty for a run started before it did. */
function runContextOf(headers: Headers): RunContext {
  const header = headers[RUN_CONTEXT_HEADER];
  const passed = header ? defaultPayloadConverter.fromPayload<unknown>(header) : undefined;
  if (typeof passed !== 'object' || passed === null) return {};
  const { principal, runbook } = passed as Record<string, unknown>;
  return { ...(typeof principal === 'string' ? { principal } : {}), ...(typeof runbook === 'string' ? { runbook } : {}) };
}

/**
 * The header read once per activity: its run's principal and runbook go on each line it logs (and
 * the SDK's lines about it: "Activity started" is logged here, once the header is read, in place of
 * the SDK's own) and, with metrics, label its step's duration. A fleet
 * batch's host steps name their campaign's runbook, not the batch's workflow type.
 */
function runContextInterceptors(ctx: ActivityContext, metrics: RunbookMetrics | undefined): ReturnType<ActivityInterceptorsFactory> {
  let context: RunContext = {};
  return {
    inbound: {
      execute(input, next) {
        context = runContextOf(input.headers);
        logActivityStarted(ctx.log);
        return metrics ? timedStep(ctx, metrics, context.runbook ?? runbookOf(ctx.info.workflowType), input, next) : next(input);
      },
    },
    outbound: {
      getLogAttributes: (attributes, next) => next({ ...attributes, ...context }),
    },
  };
}

/** One attempt of a step, timed; a report written is the run's end. */
async function timedStep(
  ctx: ActivityContext,
  metrics: RunbookMetrics,
  runbook: string,
  input: ActivityExecuteInput,
  next: Next<ActivityInboundCallsInterceptor, 'execute'>,
): Promise<unknown> {
  const step = ctx.info.activityType;
  const [arg] = input.args as [unknown];
  const endTimer = metrics.stepDuration.startTimer({ runbook, step });
  try {
    const result = await next(input);
    endTimer({ outcome: 'succeeded' });
    // A retried report (its first write's completion was lost) is not a second end of the run.
    if (step === 'writeReport' && (result as WriteReportResult).firstWrite !== false)
      metrics.recordRunEnded((arg as WriteReportInput).state);
    return result;
  } catch (error) {
    endTimer({ outcome: 'failed' });
    throw error;
  }
}
