import { DefaultLogger, Runtime } from '@temporalio/worker';
import { bundleRunbookWorkflows } from '@runbooks/worker';
import type { Client } from '@temporalio/client';
import fs from 'node:fs/promises';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { startDevServer, stopDevServer, type DevServer } from './harness/dev-server';

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

/** Worker lifecycle INFO lines would drown the figures; warnings and errors still show. */
export function installQuietRuntime(): void {
  Runtime.install({ logger: new DefaultLogger('WARN') });
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
 * `@runbooks/contracts` aliased to its source as the worker's own bundle does.
 */
export async function bundleBenchWorkflows(relativeToSrc: string, outDir: string): Promise<string> {
  const bundle = await bundleRunbookWorkflows(path.join(benchSrc, relativeToSrc));
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

/** Nearest-rank percentile. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** A plain text table, columns padded to their widest cell. */
export function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

export function fixed(value: number, digits = 2): string {
  return Number.isFinite(value) ? value.toFixed(digits) : '-';
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
