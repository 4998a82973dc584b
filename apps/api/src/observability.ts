import { ProxyTracerProvider, SpanKind, SpanStatusCode, context, trace, type Span } from '@opentelemetry/api';
import type { Principal } from '@runbooks/contracts';
import type { RunbookMetrics } from '@runbooks/activities/api-surface';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { timingSafeEqual } from 'node:crypto';
import type { RouteDefinition } from './http/route';

/** Route tags whose accepted writes are people acting on runs: counted as operator actions. */
const OPERATOR_TAGS = new Set(['runs', 'approvals', 'tasks', 'rollouts', 'schedules', 'integrations']);

const QUIET_ROUTES = new Set(['/healthz', '/readyz', '/metrics']);

export type ObservedRequest = Request & { principal?: Principal; requestSpan?: Span };

/**
 * One middleware, first in line, for every request: a server span (the trace the Temporal client
 * interceptor carries into the workflow), the request counter and latency histogram by route
 * pattern, the operator-action counter, and one log line with the principal and the run.
 */
export function observeRequests(metrics: RunbookMetrics, routes: readonly RouteDefinition[], logger: Logger) {
  const tracer = trace.getTracer('runbooks-api');
  const routeByKey = new Map(routes.map((r) => [`${r.method.toUpperCase()} ${r.path}`, r]));
  return function requestObservation(req: ObservedRequest, res: Response, next: NextFunction): void {
    const started = process.hrtime.bigint();
    const span = tracer.startSpan(`${req.method} ${req.path}`, {
      kind: SpanKind.SERVER,
      attributes: { 'http.request.method': req.method },
    });
    req.requestSpan = span;
    res.on('finish', () => {
      // The matched pattern (/v1/runs/:id), never the raw path: labels stay few.
      const route = req.route ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched';
      const labels = { method: req.method, route, status: String(res.statusCode) };
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.apiRequests.inc(labels);
      metrics.apiRequestDuration.observe(labels, seconds);
      const definition = routeByKey.get(`${req.method} ${route}`);
      const action = operatorAction(req, res, definition);
      if (action) metrics.operatorActions.inc({ action });
      span.updateName(`${req.method} ${route}`);
      span.setAttributes({ 'http.route': route, 'http.response.status_code': res.statusCode });
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
      // Probes and scrapes every few seconds would drown the lines people read.
      const level = QUIET_ROUTES.has(route) && res.statusCode < 400 ? 'debug' : 'info';
      if (!logger.isLevelEnabled(level)) return;
      logger[level](
        {
          method: req.method,
          route,
          status: res.statusCode,
          durationMs: Math.round(seconds * 1000),
          ...requestLogFields(req),
          ...(action ? { action } : {}),
          traceId: span.spanContext().traceId,
        },
        'request',
      );
    });
    next();
  };
}

/** What every log line about a request names where it is known: who made it, and the run it is about (on run routes). */
export function requestLogFields(req: ObservedRequest): { principal?: string; runId?: string } {
  const id = req.params?.id;
  const runId = typeof id === 'string' && req.path.startsWith('/v1/runs/') ? id : undefined;
  return { ...(req.principal ? { principal: req.principal.id } : {}), ...(runId ? { runId } : {}) };
}

function operatorAction(req: Request, res: Response, route: RouteDefinition | undefined): string | undefined {
  if (!route || route.method === 'get' || res.statusCode >= 400 || !OPERATOR_TAGS.has(route.tag)) return undefined;
  const decision = (req.body as { decision?: unknown } | undefined)?.decision;
  if (route.operationId === 'decideApproval' && (decision === 'approve' || decision === 'reject')) return decision;
  return route.operationId;
}

/** The provider a proxy hands out while no tracer provider is registered. */
const NO_TRACER_PROVIDER = new ProxyTracerProvider().getDelegate();

/**
 * Whether a tracer provider is registered (main.ts starts tracing before the app, from the OTEL_*
 * variables): without one every span is a no-op, and what only carries spans can stay out of the
 * request path (the Temporal client's tracing interceptor, the span activation below).
 */
export function tracingIsOn(): boolean {
  const provider = trace.getTracerProvider();
  return !(provider instanceof ProxyTracerProvider) || provider.getDelegate() !== NO_TRACER_PROVIDER;
}

/**
 * Makes the request's span the active context while the handler runs, so the Temporal client's
 * spans are its children. Installed as Nest middleware, after the body parsers (whose stream
 * callbacks would lose the context), on every route, when tracing is on: Nest's middleware
 * plumbing cost each request more than the check. A Nest interceptor here cost every request
 * Nest's interceptor chain.
 */
export function activateRequestSpan(req: ObservedRequest, _res: Response, next: NextFunction): void {
  const span = req.requestSpan;
  if (!span || !trace.isSpanContextValid(span.spanContext())) return next();
  context.with(trace.setSpan(context.active(), span), next);
}

/**
 * GET /metrics: open when no token is configured (scrapers on a private network), otherwise only
 * with `Authorization: Bearer <RUNBOOKS_METRICS_TOKEN>`. Not an API route: not in the OpenAPI document.
 */
export function metricsEndpoint(metrics: RunbookMetrics, token: string | undefined) {
  return function serveMetrics(req: Request, res: Response): void {
    if (token && !bearerMatches(req.headers.authorization, token)) {
      res.status(401).type('text/plain').send('metrics need the bearer token RUNBOOKS_METRICS_TOKEN\n');
      return;
    }
    metrics.registry.metrics().then(
      (text) => res.status(200).type(metrics.registry.contentType).send(text),
      (error: Error) => res.status(503).type('text/plain').send(`metrics unavailable: ${error.message}\n`),
    );
  };
}

function bearerMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(header?.match(/^Bearer (.+)$/i)?.[1] ?? '');
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
