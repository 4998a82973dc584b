import { rolloutCounts, type RunState } from '@runbooks/contracts';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Waits measured in seconds that span a minute to a day: approvals and human tasks. */
const WAIT_BUCKETS = [1, 10, 30, 60, 300, 900, 1800, 3600, 7200, 14400, 28800, 86400];
/** Steps take from milliseconds (a store read) to an hour (a restore). */
const STEP_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600];
const REQUEST_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/**
 * How often the event-loop lag is sampled (nodejs_eventloop_lag_*): a stall longer than this always
 * shows in the lag figures, a shorter one only when a sample falls inside it.
 */
export const EVENT_LOOP_SAMPLE_MS = 50;

/** Host outcomes a fleet report counts; the metric's `result` label. */
const HOST_RESULTS = { patched: 'changed', failed: 'failed', rolled_back: 'rolled_back', rollback_failed: 'rollback_failed' } as const;

/**
 * The service's own Prometheus metrics, on a registry of their own (one per process). The API and
 * the worker share the definitions so a dashboard names one set; each records what it sees (see
 * apps/api/README.md "Metrics"). Workflow code never records: activities, the activity
 * interceptor, the worker's sinks and the API do.
 */
export class RunbookMetrics {
  readonly registry = new Registry();

  readonly runsStarted = new Counter({
    name: 'runbooks_runs_started_total',
    help: 'Runs started (a first execution, not a continue-as-new), by runbook and trigger (api, schedule, or parent for a runbook started by another run).',
    labelNames: ['runbook', 'trigger'] as const,
    registers: [this.registry],
  });
  /** Set by the API: how many runs wait now, by status and runbook, read from Temporal at each scrape. */
  waitingRuns?: () => Promise<ReadonlyArray<{ status: string; runbook: string; count: number }>>;
  readonly runsWaiting = new Gauge({
    name: 'runbooks_runs_waiting',
    help: 'Runs waiting now, by status (awaiting_approval, awaiting_task) and runbook: counted in Temporal at each scrape of the API (every replica reports the same figure).',
    labelNames: ['status', 'runbook'] as const,
    registers: [this.registry],
    collect: async () => {
      this.runsWaiting.reset();
      if (!this.waitingRuns) return;
      // Temporal away: the gauge is absent from this scrape rather than failing the rest.
      const counts = await this.waitingRuns().catch(() => []);
      for (const { status, runbook, count } of counts) this.runsWaiting.set({ status, runbook }, count);
    },
  });
  /** Set by the API: each runbook's runs failed since its last success, read from the store at each scrape. */
  failingRuns?: () => Promise<ReadonlyArray<{ runbook: string; count: number }>>;
  readonly runsFailingInARow = new Gauge({
    name: 'runbooks_runs_failing_in_a_row',
    help: 'Runs of a runbook that failed since its last successful run (by report time), by runbook: counted in the store at each scrape of the API (every replica reports the same figure).',
    labelNames: ['runbook'] as const,
    registers: [this.registry],
    collect: async () => {
      this.runsFailingInARow.reset();
      if (!this.failingRuns) return;
      // The store away: the gauge is absent from this scrape rather than failing the rest.
      const counts = await this.failingRuns().catch(() => []);
      for (const { runbook, count } of counts) this.runsFailingInARow.set({ runbook }, count);
    },
  });
  readonly runsEnded = new Counter({
    name: 'runbooks_runs_ended_total',
    help: 'Runs ended, counted when their report is written, by runbook and outcome (the final run status).',
    labelNames: ['runbook', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly stepDuration = new Histogram({
    name: 'runbooks_step_duration_seconds',
    help: 'One attempt of a step (an activity), by runbook, step (the activity) and outcome (succeeded or failed).',
    labelNames: ['runbook', 'step', 'outcome'] as const,
    buckets: STEP_BUCKETS,
    registers: [this.registry],
  });
  readonly approvalWait = new Histogram({
    name: 'runbooks_approval_wait_seconds',
    help: 'From an approval gate opening to its close, by runbook and how it closed (approved, rejected, expired, cancelled).',
    labelNames: ['runbook', 'result'] as const,
    buckets: WAIT_BUCKETS,
    registers: [this.registry],
  });
  readonly taskWait = new Histogram({
    name: 'runbooks_task_wait_seconds',
    help: 'From a human task opening to its close, by runbook and its final state.',
    labelNames: ['runbook', 'result'] as const,
    buckets: WAIT_BUCKETS,
    registers: [this.registry],
  });
  readonly slaBreaches = new Counter({
    name: 'runbooks_sla_breaches_total',
    help: 'An approval or task still undone at its deadline: by runbook, kind (approval or task) and the tier it passed to (none: no tier was left, so the gate expired or the task stays overdue with the last tier).',
    labelNames: ['runbook', 'kind', 'tier'] as const,
    registers: [this.registry],
  });
  readonly hosts = new Counter({
    name: 'runbooks_hosts_total',
    help: 'Hosts of ended fleet runs, by runbook and result (changed, failed, rolled_back, rollback_failed).',
    labelNames: ['runbook', 'result'] as const,
    registers: [this.registry],
  });
  readonly operatorActions = new Counter({
    name: 'runbooks_operator_actions_total',
    help: 'Actions people took through the API and were accepted (approve, reject, task claim/complete, pause, abort, cancel, ...), by action.',
    labelNames: ['action'] as const,
    registers: [this.registry],
  });
  readonly apiRequests = new Counter({
    name: 'runbooks_api_requests_total',
    help: 'API requests answered, by method, route (the path pattern) and status code.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  readonly apiRequestDuration = new Histogram({
    name: 'runbooks_api_request_duration_seconds',
    help: 'API request latency, from arrival to the response sent, by method, route and status code.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: REQUEST_BUCKETS,
    registers: [this.registry],
  });

  constructor(options: { processMetrics?: boolean } = {}) {
    // Memory, CPU, event-loop lag: the figures an SRE checks first on a slow worker. The lag is
    // sampled every EVENT_LOOP_SAMPLE_MS, not prom-client's 10 ms: its timer woke an idle API 100
    // times a second for nothing (the approval-latency bench reports the API's idle CPU).
    if (options.processMetrics ?? true) {
      collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
    }
  }

  /** A run's report was written: its outcome, its waits and its hosts. */
  recordRunEnded(state: RunState): void {
    const runbook = state.runbook;
    this.runsEnded.inc({ runbook, outcome: state.status });
    for (const gate of state.gates) {
      const wait = secondsBetween(gate.openedAt, gate.closedAt);
      if (wait !== undefined) this.approvalWait.observe({ runbook, result: gate.state }, wait);
    }
    for (const task of state.tasks ?? []) {
      const wait = secondsBetween(task.openedAt, task.closedAt);
      if (wait !== undefined) this.taskWait.observe({ runbook, result: task.state }, wait);
    }
    // Runs whose host records are in the store carry counts; their `hosts` are only those in flight.
    const counts = state.rollout ? rolloutCounts(state.rollout) : undefined;
    for (const [hostState, result] of Object.entries(HOST_RESULTS)) {
      const n = counts?.[hostState as keyof typeof HOST_RESULTS] ?? 0;
      if (n > 0) this.hosts.inc({ runbook, result }, n);
    }
  }

  /**
   * The exposition text: ours, then any extra source's (the Temporal SDK's own metrics on the worker).
   * An extra source that cannot be read leaves a comment instead: ours are still served, and its
   * metrics' absence is what alerts on it (RunbookNoWorkerPolling's `absent(temporal_num_pollers)`).
   */
  async exposition(extra?: () => Promise<string>): Promise<string> {
    const ours = await this.registry.metrics();
    if (!extra) return ours;
    const more = await extra().catch((error: unknown) => `# the Temporal SDK's metrics could not be read: ${oneLine(error)}\n`);
    return `${ours}\n${more}`;
  }
}

/** The names every RunbookMetrics exports (a dashboard may query only these, plus the SDK's). */
export function runbookMetricNames(metrics: RunbookMetrics = new RunbookMetrics({ processMetrics: false })): string[] {
  return metrics.registry.getMetricsAsArray().map((m) => m.name);
}

function secondsBetween(from?: string, to?: string): number | undefined {
  if (!from || !to) return undefined;
  const ms = Date.parse(to) - Date.parse(from);
  return Number.isFinite(ms) && ms >= 0 ? ms / 1000 : undefined;
}

/**
 * GET /metrics on host:port (the worker has no HTTP server of its own). `extra` adds another
 * exposition to the same scrape. Port 0 picks a free port; the answer says which.
 */
export async function serveMetrics(
  metrics: RunbookMetrics,
  options: { host: string; port: number; extra?: () => Promise<string> },
): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: GET /metrics\n');
      return;
    }
    metrics.exposition(options.extra).then(
      (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
      (error: Error) => res.writeHead(503, { 'content-type': 'text/plain' }).end(`metrics unavailable: ${error.message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function oneLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ');
}
