/**
 * Step-overhead bench: a runbook of K no-op steps through the step engine (RunbookRun, activities
 * wrapped in attempt envelopes as on the real worker) against bare Temporal code calling the same
 * no-op activity K times. Runs alternate between the two, after a warm-up; it reports p50/p90 of
 * the workflow's duration (server start to close time), the ratio of p50s and history events per step.
 *
 *   node bench/dist/step-overhead.js [--runs 15] [--max-minutes 20]
 */
import { Client, Connection } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { RunState, RunbookStartArgs } from '@runbooks/contracts';
import { withAttemptEnvelopes } from '@runbooks/worker';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { noopActivities } from './baseline/activities';
import type { NoopStepsInput } from './overhead/workflows';
import {
  abortAfter,
  bundleBenchWorkflows,
  fixed,
  installQuietRuntime,
  intArg,
  percentile,
  startBenchServer,
  stopServer,
  table,
} from './common';
import type { DevServer } from './harness/dev-server';

const RUNS = intArg('runs', 15);
/** The whole run is bounded: it aborts with a message after this many minutes. */
const MAX_MINUTES = intArg('max-minutes', 20);
const STEP_COUNTS = [1, 10, 50];
const WARMUP_RUNS = 3;

type Kind = 'engine' | 'bare';
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

interface Sample {
  durationMs: number;
  events: number;
  /** Time the worker spent in workflow tasks (started to completed), where the engine's own work happens. */
  workflowTaskMs: number;
}

async function main(): Promise<number> {
  let server: DevServer | undefined;
  abortAfter(MAX_MINUTES, 'step-overhead bench', () => server);
  installQuietRuntime();
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'runbooks-bench-steps-'));
  let connection: Connection | undefined;
  let native: NativeConnection | undefined;
  const workers: { worker: Worker; running: Promise<void> }[] = [];
  try {
    console.log(
      `step-overhead bench: K = ${STEP_COUNTS.join(', ')} no-op steps, ${RUNS} runs each; ${os.cpus().length} cores, Node ${process.version}`,
    );
    const [dev, engineBundle, bareBundle] = await Promise.all([
      startBenchServer(),
      bundleBenchWorkflows('overhead/workflows.ts', root),
      bundleBenchWorkflows('baseline/workflows.ts', root),
    ]);
    server = dev;
    connection = await Connection.connect({ address: server.address });
    const client = new Client({ connection, namespace: 'default' });
    native = await NativeConnection.connect({ address: server.address });
    const queues: Record<Kind, string> = { engine: `bench-engine-${randomUUID()}`, bare: `bench-bare-${randomUUID()}` };
    for (const [kind, bundle, activities] of [
      ['engine', engineBundle, withAttemptEnvelopes(noopActivities)],
      ['bare', bareBundle, noopActivities],
    ] as const) {
      const worker = await Worker.create({
        connection: native,
        namespace: 'default',
        taskQueue: queues[kind],
        workflowBundle: { codePath: bundle },
        activities,
        shutdownGraceTime: 5_000,
      });
      workers.push({ worker, running: worker.run() });
    }

    const runOnce = async (kind: Kind, steps: number): Promise<Sample> => {
      const workflowId = `bench-${kind}-${steps}-${randomUUID()}`;
      const handle =
        kind === 'engine'
          ? await client.workflow.start('engineNoopSteps', {
              taskQueue: queues.engine,
              workflowId,
              args: [{ input: { steps }, requestedBy: { id: 'bench', displayName: 'Bench' } } satisfies RunbookStartArgs<NoopStepsInput>],
            })
          : await client.workflow.start('bareNoopSteps', { taskQueue: queues.bare, workflowId, args: [steps] });
      const result = await handle.result();
      if (kind === 'engine' && (result as RunState).status !== 'succeeded')
        throw new Error(`engine run ${workflowId} ended ${(result as RunState).status}`);
      const d = await handle.describe();
      if (!d.closeTime) throw new Error(`${workflowId} has no close time`);
      return {
        durationMs: d.closeTime.getTime() - d.startTime.getTime(),
        events: d.historyLength,
        workflowTaskMs: await workflowTaskMs(handle),
      };
    };

    for (let i = 0; i < WARMUP_RUNS; i++) for (const kind of ['engine', 'bare'] as const) await runOnce(kind, 10);

    const rows: (string | number)[][] = [];
    for (const steps of STEP_COUNTS) {
      const samples: Record<Kind, Sample[]> = { engine: [], bare: [] };
      for (let r = 0; r < RUNS; r++) {
        // Alternate which goes first, so drift over the run falls on both alike.
        const order: Kind[] = r % 2 === 0 ? ['bare', 'engine'] : ['engine', 'bare'];
        for (const kind of order) samples[kind].push(await runOnce(kind, steps));
      }
      const p = (kind: Kind, q: number) =>
        percentile(
          samples[kind].map((s) => s.durationMs),
          q,
        );
      const wft = (kind: Kind) =>
        percentile(
          samples[kind].map((s) => s.workflowTaskMs),
          50,
        );
      const eventsPerStep = (kind: Kind) => Math.max(...samples[kind].map((s) => s.events)) / steps;
      rows.push([
        steps,
        p('engine', 50),
        p('engine', 90),
        p('bare', 50),
        p('bare', 90),
        fixed(p('engine', 50) / p('bare', 50)),
        fixed(eventsPerStep('engine'), 1),
        fixed(eventsPerStep('bare'), 1),
        wft('engine'),
        wft('bare'),
        fixed(wft('engine') / wft('bare')),
      ]);
      console.log(`  K=${steps}: done`);
    }
    console.log(
      '\nworkflow duration (ms, server start to close), history events per step (historyLength / K), ' +
        'time in workflow tasks (ms, p50 of the sum of started-to-completed per run)',
    );
    console.log(
      table(
        [
          'K steps',
          'engine p50',
          'engine p90',
          'bare p50',
          'bare p90',
          'ratio p50 engine/bare',
          'engine events/step',
          'bare events/step',
          'engine WFT ms',
          'bare WFT ms',
          'ratio WFT',
        ],
        rows,
      ),
    );
    return 0;
  } finally {
    for (const { worker } of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
    await Promise.all(workers.map((w) => w.running.catch(() => undefined)));
    await native?.close().catch(() => undefined);
    await connection?.close().catch(() => undefined);
    await stopServer(server);
    await fs.rm(root, { recursive: true, force: true });
  }
}

/** The sum of (WorkflowTaskCompleted - WorkflowTaskStarted) over the run's history, in ms. */
async function workflowTaskMs(handle: { fetchHistory(): Promise<{ events?: HistoryEvent[] | null }> }): Promise<number> {
  const { events } = await handle.fetchHistory();
  let total = 0;
  let startedAt: number | undefined;
  for (const e of events ?? []) {
    if (e.workflowTaskStartedEventAttributes) startedAt = eventMs(e);
    else if (e.workflowTaskCompletedEventAttributes && startedAt !== undefined) {
      total += eventMs(e) - startedAt;
      startedAt = undefined;
    }
  }
  return total;
}

function eventMs(e: HistoryEvent): number {
  return Number(e.eventTime?.seconds ?? 0) * 1000 + Math.round((e.eventTime?.nanos ?? 0) / 1e6);
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('step-overhead bench failed:', error);
    process.exit(1);
  },
);
