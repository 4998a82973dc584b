import { DefaultLogger, Runtime, makeTelemetryFilterString } from '@temporalio/worker';
import { bundleRunbookWorkflows } from '@runbooks/worker';
import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import fs from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { startDevServer, stopDevServer, type DevServer } from './harness/dev-server';

export { fixed, percentile, spread, table } from './stats';

export const repoRoot = path.resolve(__dirname, '..', '..');
const benchSrc = path.resolve(__dirname, '..', 'src');

/** `--name value` or `--name=value` as a positive integer, else the default. */
export function intArg(name: string, fallback: number): number {
  const argv = process.argv.slice(2);
  let raw: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === `--${name}`) raw = argv[i + 1];
    else if (argv[i].startsWith(`--${name}=`)) raw = argv[i].slice(name.length + 3);
  }
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer, got "${raw}"`);
  return value;
}

/** `--name` present: a switch such as `--smoke`. */
export function flagArg(name: string): boolean {
  return process.argv.slice(2).includes(`--${name}`);
}

/** `--name 1,10,50` as positive integers, else the default. */
export function intListArg(name: string, fallback: number[]): number[] {
  const argv = process.argv.slice(2);
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const values = (argv[i + 1] ?? '').split(',').map(Number);
  if (values.length === 0 || values.some((v) => !Number.isInteger(v) || v < 1)) {
    throw new Error(`--${name} must be positive integers separated by commas, got "${argv[i + 1]}"`);
  }
  return values;
}

/**
 * Worker lifecycle INFO lines would drown the figures, and so would the core's warnings on a
 * loaded machine (one per slow workflow task): the SDK's warnings and every error still show.
 */
export function installQuietRuntime(): void {
  Runtime.install({
    logger: new DefaultLogger('WARN'),
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }) } },
  });
}

/** A dev server on loopback with Temporal's own continue-as-new suggestion (the tests lower it; a bench must not). */
export function startBenchServer(): Promise<DevServer> {
  return startDevServer({ suggestContinueAsNewAfter: 'server-default' });
}

export { stopDevServer as stopServer };

/**
 * Aborts the whole run with a clear message after `minutes`: kills the dev server this script
 * started and exits non-zero, so a hung bench never blocks a machine.
 */
export function abortAfter(minutes: number, what: string, server: () => DevServer | undefined): NodeJS.Timeout {
  const timer = setTimeout(() => {
    console.error(`\n${what}: ABORTED after ${minutes} minutes (bounded run); the figures above are incomplete.`);
    server()?.process.kill('SIGKILL');
    process.exit(3);
  }, minutes * 60_000);
  timer.unref();
  return timer;
}

/**
 * Bundles a bench workflow file from its TypeScript source (bench/src/...), with
 * `@runbooks/contracts` aliased to its source as the worker's own bundle does. `bare`: without the
 * worker's preloaded modules and without the runbook interceptors (metrics and tracing): a baseline
 * carries nothing of ours it does not import.
 */
export async function bundleBenchWorkflows(relativeToSrc: string, outDir: string, { bare = false } = {}): Promise<string> {
  const bundle = await bundleRunbookWorkflows(path.join(benchSrc, relativeToSrc), bare ? { preloadModules: [], interceptors: false } : {});
  return writeBundle(bundle.code, outDir, relativeToSrc.replace(/[/.]/g, '-'));
}

export async function writeBundle(code: string, outDir: string, name: string): Promise<string> {
  const file = path.join(outDir, `${name}.bundle.js`);
  await fs.writeFile(file, code);
  return file;
}

/** A full garbage collection, so one phase does not inherit the garbage of the one before. */
export const collectGarbage: () => void = (() => {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
})();

/** Samples the process RSS every `everyMs` (the worker's Rust core is in it too); keeps the high-water mark. */
export class RssSampler {
  readonly startBytes = process.memoryUsage().rss;
  private peak = this.startBytes;
  private readonly timer: NodeJS.Timeout;

  constructor(everyMs = 200) {
    this.timer = setInterval(() => this.sample(), everyMs);
  }

  private sample(): void {
    this.peak = Math.max(this.peak, process.memoryUsage().rss);
  }

  stop(): { startMb: number; peakMb: number } {
    this.sample();
    clearInterval(this.timer);
    return { startMb: mb(this.startBytes), peakMb: mb(this.peak) };
  }
}

export function mb(bytes: number): number {
  return bytes / (1024 * 1024);
}

export interface HistoryFigures {
  executions: number;
  /** The largest history of any workflow in the campaign, in events, and whose it is. */
  largestEvents: number;
  largestId: string;
  /** Runs of the top workflow id (1 + times it continued as new). */
  topRuns: number;
  /** The largest history among the runs of the top workflow id (events, bytes). */
  topEvents: number;
  topBytes: number;
  /** The largest history among the other workflows (the batch children). */
  childEvents: number;
  childBytes: number;
}

/**
 * Every execution whose workflow id starts with `prefix` (the parent, its continued runs and its
 * children), through the visibility store: their history lengths and sizes.
 */
export async function historiesByPrefix(client: Client, prefix: string, topId: string): Promise<HistoryFigures> {
  const f: HistoryFigures = {
    executions: 0,
    largestEvents: 0,
    largestId: '',
    topRuns: 0,
    topEvents: 0,
    topBytes: 0,
    childEvents: 0,
    childBytes: 0,
  };
  for await (const wf of client.workflow.list({ query: `WorkflowId STARTS_WITH "${prefix}"` })) {
    f.executions += 1;
    const events = wf.historyLength ?? 0;
    const bytes = wf.historySize ?? 0;
    if (wf.workflowId === topId) {
      f.topRuns += 1;
      f.topEvents = Math.max(f.topEvents, events);
      f.topBytes = Math.max(f.topBytes, bytes);
    } else {
      f.childEvents = Math.max(f.childEvents, events);
      f.childBytes = Math.max(f.childBytes, bytes);
    }
    if (events > f.largestEvents) {
      f.largestEvents = events;
      f.largestId = wf.workflowId;
    }
  }
  return f;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** An event's server time in ms since the epoch. */
export function eventMs(e: temporal.api.history.v1.IHistoryEvent): number {
  // Fractional: a few-ms latency rounded to whole ms moves its ratio by 10% a step.
  return Number(e.eventTime?.seconds ?? 0) * 1000 + (e.eventTime?.nanos ?? 0) / 1e6;
}

/** The wall clock in ms with a fraction, to compare with event times (eventMs) on the same machine. */
export function wallMs(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * Waits until every workflow is parked: its first workflow task done, none pending, no activity
 * in flight (what a run waiting for a person looks like). Polls `describe`, `concurrency` at once.
 */
export async function waitUntilParked(client: Client, workflowIds: string[], concurrency: number, timeoutMs = 30 * 60_000): Promise<void> {
  let waiting = [...workflowIds];
  const deadline = Date.now() + timeoutMs;
  while (waiting.length > 0) {
    const still: string[] = [];
    let next = 0;
    const lane = async () => {
      while (next < waiting.length) {
        const id = waiting[next++];
        const d = await client.workflow.getHandle(id).describe();
        if (d.status.name !== 'RUNNING') throw new Error(`${id} ended (${d.status.name}) before it parked`);
        const parked = d.historyLength >= 4 && !d.raw.pendingWorkflowTask && (d.raw.pendingActivities ?? []).length === 0;
        if (!parked) still.push(id);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, waiting.length) }, lane));
    waiting = still;
    if (waiting.length === 0) return;
    if (Date.now() > deadline) throw new Error(`${waiting.length} workflows not parked after ${timeoutMs / 1000} s`);
    await sleep(500);
  }
}

/** The bytes of every payload an event carries (inputs, results, details), summed. */
function eventPayloadBytes(value: unknown): number {
  if (value === null || typeof value !== 'object') return 0;
  if (value instanceof Uint8Array) return 0;
  const v = value as Record<string, unknown>;
  if (v.data instanceof Uint8Array && 'metadata' in v) return v.data.byteLength;
  let total = 0;
  for (const child of Object.values(v)) total += eventPayloadBytes(child);
  return total;
}

/** What the histories of a campaign hold: events by type and payload bytes, in all, and the largest payload one event carries. */
export interface HistoryWork {
  executions: number;
  events: number;
  /** Events by type (`workflowTaskCompleted`, `activityTaskScheduled`, ...). */
  byType: Record<string, number>;
  payloadBytes: number;
  largestPayload: { bytes: number; where: string };
  /**
   * Where an activity's and a workflow task's time goes, summed over all (ms, server event times):
   * scheduled → started (waiting in the task queue for a poller) and started → closed (running).
   */
  ms: { activityQueue: number; activityRun: number; workflowTaskQueue: number; workflowTaskRun: number };
  /**
   * Time no host action ran, summed over the gaps between the executions that ran them (for a
   * fleet: from a batch's last host action done to the next batch's first scheduled), ms.
   */
  idleBetweenMs: number;
}

/**
 * Every event of every execution whose workflow id starts with `prefix` (each run of the parent
 * and every child): how many of each type, the payload bytes they carry, and the largest payload
 * one event carries (which event type, in whose history, how big).
 */
export async function historyWork(client: Client, prefix: string, hostActivityTypes: readonly string[] = []): Promise<HistoryWork> {
  const work: HistoryWork = {
    executions: 0,
    events: 0,
    byType: {},
    payloadBytes: 0,
    largestPayload: { bytes: 0, where: '' },
    ms: { activityQueue: 0, activityRun: 0, workflowTaskQueue: 0, workflowTaskRun: 0 },
    idleBetweenMs: 0,
  };
  /** Per execution that ran host actions: when its first was scheduled and its last completed. */
  const spans: { first: number; last: number }[] = [];
  for await (const wf of client.workflow.list({ query: `WorkflowId STARTS_WITH "${prefix}"` })) {
    work.executions += 1;
    const history = await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
    const timeOf = new Map<number, number>();
    const since = (id: unknown, at: number) => at - (timeOf.get(Number(id)) ?? at);
    const hostActions = new Set<number>();
    const span = { first: Infinity, last: -Infinity };
    for (const event of history.events ?? []) {
      const at = eventMs(event);
      timeOf.set(Number(event.eventId), at);
      const scheduled = event.activityTaskScheduledEventAttributes;
      if (scheduled && hostActivityTypes.includes(scheduled.activityType?.name ?? '')) {
        hostActions.add(Number(event.eventId));
        span.first = Math.min(span.first, at);
      }
      const completed = event.activityTaskCompletedEventAttributes;
      if (completed && hostActions.has(Number(completed.scheduledEventId))) span.last = Math.max(span.last, at);
      if (event.activityTaskStartedEventAttributes)
        work.ms.activityQueue += since(event.activityTaskStartedEventAttributes.scheduledEventId, at);
      if (event.activityTaskCompletedEventAttributes)
        work.ms.activityRun += since(event.activityTaskCompletedEventAttributes.startedEventId, at);
      if (event.workflowTaskStartedEventAttributes) {
        work.ms.workflowTaskQueue += since(event.workflowTaskStartedEventAttributes.scheduledEventId, at);
      }
      if (event.workflowTaskCompletedEventAttributes)
        work.ms.workflowTaskRun += since(event.workflowTaskCompletedEventAttributes.startedEventId, at);
      const type = (Object.keys(event).find((k) => k.endsWith('EventAttributes') && (event as Record<string, unknown>)[k]) ?? '?').replace(
        /EventAttributes$/,
        '',
      );
      work.events += 1;
      work.byType[type] = (work.byType[type] ?? 0) + 1;
      const bytes = eventPayloadBytes(event);
      work.payloadBytes += bytes;
      if (bytes > work.largestPayload.bytes) {
        work.largestPayload = { bytes, where: `${type} in ${wf.workflowId === prefix ? 'the parent' : 'a child'}` };
      }
    }
    if (span.last >= span.first) spans.push(span);
  }
  spans.sort((a, b) => a.first - b.first);
  for (let i = 1; i < spans.length; i++) work.idleBetweenMs += Math.max(0, spans[i].first - spans[i - 1].last);
  return work;
}

/**
 * CPU time of this process (every thread: the workers' workflow threads and Rust core too) and
 * of the dev server, from construction to `stop`: per unit of work, it holds on a busy machine
 * where wall time does not.
 */
export class CpuMeter {
  private readonly process0 = process.cpuUsage();
  private readonly server0: number | undefined;

  constructor(private readonly server: DevServer) {
    this.server0 = serverCpuMs(server);
  }

  stop(): { processMs: number; serverMs: number | undefined } {
    const { user, system } = process.cpuUsage(this.process0);
    const server = serverCpuMs(this.server);
    return {
      processMs: (user + system) / 1000,
      serverMs: server !== undefined && this.server0 !== undefined ? server - this.server0 : undefined,
    };
  }
}

/** Linux's clock ticks per second (`getconf CLK_TCK`), the unit of /proc/<pid>/stat's CPU times. */
const CLOCK_TICKS_PER_SECOND = 100;

/** The dev server's CPU time so far (user + system, ms), from /proc; undefined where there is none. */
function serverCpuMs(server: DevServer): number | undefined {
  if (!server.process.pid) return undefined;
  try {
    const stat = readFileSync(`/proc/${server.process.pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** The dev server's frontend requests of the default namespace so far, by operation (its Prometheus `service_requests`). */
export async function serverRequests(server: DevServer): Promise<Record<string, number>> {
  const text = await (await fetch(`http://${server.metricsAddress}/metrics`)).text();
  const counts: Record<string, number> = {};
  for (const [, labels, value] of text.matchAll(/^service_requests\{([^}]*)\} (\S+)$/gm)) {
    if (!labels.includes('namespace="default"') || !labels.includes('service_name="frontend"')) continue;
    const operation = /operation="([^"]+)"/.exec(labels)?.[1];
    if (operation) counts[operation] = (counts[operation] ?? 0) + Number(value);
  }
  return counts;
}

/** `after - before`, per key. */
export function countsSince(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(after).map(([k, n]) => [k, n - (before[k] ?? 0)]));
}

/** A workflow bundle's size and the modules webpack put in it (zod's counted apart). */
export async function bundleFacts(file: string): Promise<{ kb: number; modules: number; zodModules: number }> {
  const code = await fs.readFile(file, 'utf8');
  // webpack names every module in a banner comment: /*!*** ./node_modules/zod/v4/core/core.js ***!*/
  const modules = new Set([...code.matchAll(/!\*\*\* (\S+) \*\*\*!/g)].map((m) => m[1]));
  const zodModules = [...modules].filter((m) => m.includes('node_modules/zod/')).length;
  return { kb: Buffer.byteLength(code) / 1024, modules: modules.size, zodModules };
}
