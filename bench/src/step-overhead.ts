/**
 * Step-overhead bench: a runbook of K no-op steps through the step engine (RunbookRun) on the real
 * worker (startOurWorker: attempt envelopes, the status copy written to the store and awaited
 * before each workflow task completes, the metrics sinks) against bare Temporal code calling the same
 * no-op activity K times. Runs alternate between the two, after a warm-up, in rounds; it reports
 * p50/p90 of the workflow's duration (server start to close time), the ratio of p50s (median and
 * range over the rounds), history events per step and the worker's workflow-task time per step.
 *
 *   node bench/dist/step-overhead.js [--rounds 3] [--runs 5] [--steps 1,10,50] [--smoke] [--max-minutes 20] [--out file.json]
 */
import { Client, Connection } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { NativeConnection } from '@temporalio/worker';
import type { RunState, RunbookStartArgs } from '@runbooks/contracts';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { NoopStepsInput } from './overhead/workflows';
import {
  abortAfter,
  bundleBenchWorkflows,
  eventMs,
  fixed,
  flagArg,
  installQuietRuntime,
  intArg,
  intListArg,
  percentile,
  spread,
  startBenchServer,
  stopServer,
} from './common';
import { BenchReport } from './results';
import { startBareWorker, startOurWorker } from './service';
import type { DevServer } from './harness/dev-server';

const SMOKE = flagArg('smoke');
const ROUNDS = intArg('rounds', SMOKE ? 1 : 3);
/** Runs of each side per K in each round. */
const RUNS = intArg('runs', SMOKE ? 2 : 5);
/** The whole run is bounded: it aborts with a message after this many minutes. */
const MAX_MINUTES = intArg('max-minutes', 20);
const STEP_COUNTS = intListArg('steps', [1, 10, 50]);
const WARMUP_RUNS = SMOKE ? 1 : 3;

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
  const report = new BenchReport('step-overhead', { rounds: ROUNDS, runsPerRound: RUNS, steps: STEP_COUNTS, warmupRuns: WARMUP_RUNS });
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'runbooks-bench-steps-'));
  let connection: Connection | undefined;
  let native: NativeConnection | undefined;
  const stops: (() => Promise<void>)[] = [];
  try {
    console.log(
      `step-overhead bench: K = ${STEP_COUNTS.join(', ')} no-op steps, ${ROUNDS} rounds of ${RUNS} runs each; ${os.cpus().length} cores, Node ${process.version}`,
    );
    const [dev, engineBundle, bareBundle] = await Promise.all([
      startBenchServer(),
      bundleBenchWorkflows('overhead/workflows.ts', root),
      bundleBenchWorkflows('baseline/plain-workflows.ts', root, { bare: true }),
    ]);
    server = dev;
    connection = await Connection.connect({ address: server.address });
    const client = new Client({ connection, namespace: 'default' });
    native = await NativeConnection.connect({ address: server.address });
    const queues: Record<Kind, string> = { engine: `bench-engine-${randomUUID()}`, bare: `bench-bare-${randomUUID()}` };
    const ours = await startOurWorker({ native, taskQueue: queues.engine, bundlePath: engineBundle, dir: path.join(root, 'engine') });
    stops.push(ours.stop);
    stops.push((await startBareWorker({ native, taskQueue: queues.bare, bundlePath: bareBundle })).stop);

    let warm = true;
    let samplesDone = 0;
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
      if (kind === 'bare' && result !== steps) throw new Error(`bare run ${workflowId} did ${String(result)} of ${steps} steps`);
      if (!warm) samplesDone += 1;
      return {
        durationMs: d.closeTime.getTime() - d.startTime.getTime(),
        events: d.historyLength,
        workflowTaskMs: await workflowTaskMs(handle),
      };
    };

    for (let i = 0; i < WARMUP_RUNS; i++) for (const kind of ['engine', 'bare'] as const) await runOnce(kind, 10);
    warm = false;

    const rows: (string | number)[][] = [];
    const ratios: number[] = [];
    /** Extra history events of the engine's run over the bare one, per K: fixed per run plus any per step. */
    const extraEvents = new Map<number, number>();
    for (const steps of STEP_COUNTS) {
      const samples: Record<Kind, Sample[]> = { engine: [], bare: [] };
      const roundRatios: number[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const inRound: Record<Kind, Sample[]> = { engine: [], bare: [] };
        for (let r = 0; r < RUNS; r++) {
          // Alternate which goes first, so drift over the run falls on both alike.
          const order: Kind[] = (round * RUNS + r) % 2 === 0 ? ['bare', 'engine'] : ['engine', 'bare'];
          for (const kind of order) inRound[kind].push(await runOnce(kind, steps));
        }
        const median = (kind: Kind) =>
          percentile(
            inRound[kind].map((s) => s.durationMs),
            50,
          );
        roundRatios.push(median('engine') / median('bare'));
        for (const kind of ['engine', 'bare'] as const) samples[kind].push(...inRound[kind]);
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
      extraEvents.set(steps, (eventsPerStep('engine') - eventsPerStep('bare')) * steps);
      const ratio = percentile(roundRatios, 50);
      ratios.push(ratio);
      rows.push([
        steps,
        p('engine', 50),
        p('engine', 90),
        p('bare', 50),
        p('bare', 90),
        spread(roundRatios),
        fixed(eventsPerStep('engine'), 1),
        fixed(eventsPerStep('bare'), 1),
        fixed(wft('engine') / steps, 1),
        fixed(wft('bare') / steps, 1),
        fixed(wft('engine') / wft('bare')),
      ]);
      console.log(`  K=${steps}: done`);
    }
    report.table(
      `${ROUNDS} round(s) of ${RUNS} runs of each side per K, alternating which goes first. Duration: server start to close time (ms), ` +
        'ratio: median (min–max) over the rounds of the per-round p50 ratio; workflow-task ms per step: p50 over the runs of the sum of ' +
        'WorkflowTaskStarted → Completed, divided by K',
      [
        'K steps',
        'engine p50 ms',
        'engine p90 ms',
        'bare p50 ms',
        'bare p90 ms',
        'ratio p50 engine/bare',
        'events/step engine',
        'events/step bare',
        'WFT ms/step engine',
        'WFT ms/step bare',
        'WFT ratio',
      ],
      rows,
    );
    const worst = Math.max(...ratios);
    report.goal('step overhead: p50 ratio at ' + STEP_COUNTS.join('/') + ' steps', '≤ 1.05', `worst ${fixed(worst)}`, worst <= 1.05);
    // Per step is the slope between the smallest and largest K; what does not grow with K is per run
    // (the RunStatus / AwaitingApproval search attribute upserts at start and end).
    const [fewest, most] = [Math.min(...STEP_COUNTS), Math.max(...STEP_COUNTS)];
    const perStep = most > fewest ? (extraEvents.get(most)! - extraEvents.get(fewest)!) / (most - fewest) : NaN;
    report.goal(
      'step overhead: extra history events per step',
      '≤ 1',
      `${fixed(perStep, 2)} per step (slope from K=${fewest} to K=${most}); ${fixed(extraEvents.get(fewest)!, 0)} per run at K=${fewest}`,
      Number.isFinite(perStep) ? perStep <= 1 : null,
    );
    report.check(
      samplesDone === STEP_COUNTS.length * ROUNDS * RUNS * 2,
      `expected ${STEP_COUNTS.length * ROUNDS * RUNS * 2} runs, did ${samplesDone}`,
    );
    return report.finish();
  } finally {
    await Promise.all(stops.map((stop) => stop()));
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

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('step-overhead bench failed:', error);
    process.exit(1);
  },
);
