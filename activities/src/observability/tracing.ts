import { trace, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

/** A process's tracing: the provider (registered globally, with async context), its processor and resource. */
export interface Tracing {
  readonly tracer: Tracer;
  readonly spanProcessor: SpanProcessor;
  readonly resource: Resource;
  /** Flushes what is buffered and stops exporting. */
  shutdown(): Promise<void>;
}

/**
 * Tracing on `spanProcessor`, registered as the process's global provider so the Temporal
 * interceptors, the API's request spans and the activities' spans share one context.
 */
export function startTracing(serviceName: string, spanProcessor: SpanProcessor): Tracing {
  const resource = new Resource({ 'service.name': serviceName });
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  provider.register();
  return {
    tracer: trace.getTracer('runbooks'),
    spanProcessor,
    resource,
    shutdown: () => provider.shutdown(),
  };
}

/**
 * Tracing exported over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT (or ..._TRACES_ENDPOINT) is set;
 * off (undefined) otherwise. The exporter reads the standard OTEL_* variables (headers, timeout).
 */
export function tracingFromEnv(serviceName: string, env: NodeJS.ProcessEnv = process.env): Tracing | undefined {
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT && !env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return undefined;
  if (env.OTEL_SDK_DISABLED === 'true') return undefined;
  return startTracing(env.OTEL_SERVICE_NAME || serviceName, new BatchSpanProcessor(new OTLPTraceExporter()));
}
