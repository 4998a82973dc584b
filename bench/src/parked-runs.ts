/**
 * Parked-runs bench: the worker's memory with N runs waiting at an approval. Ours: the real
 * worker (real bundle, real activities) with N runs of the engine parked at an approval gate
 * (each has sent its approval notice); bare: a plain worker with N workflows waiting for an
 * Update. Each worker runs in a process of its own (parked-worker.ts), its cache set to hold all
 * N, so the RSS after a full GC is the worker's: idle, then with N parked. Rounds alternate
 * which side goes first; all runs are terminated after each phase.
 *
 *   node bench/dist/parked-runs.js [--parked 1000] [--rounds 2] [--smoke] [--max-minutes 30] [--out file.json]
 *   node bench/dist/parked-runs.js --capped --parked 10000      # ours alone, the worker's default cache cap
 *
 * `--capped` checks the stated bound instead: our worker with its default cache
 * (DEFAULT_MAX_CACHED_WORKFLOWS) parks N runs, far more than the cache holds; its RSS is read
 * when the cache is full and again with all N parked, and the earliest runs (evicted long ago)
 * must still answer a query, which replays them from their history.
 */
import { Client, Connection } from '@temporalio/client';
import { RequestedByAttr, RunStatusAttr, RunbookNameAttr, runStateQuery, type RunbookStartArgs } from '@runbooks/contracts';
import { DEFAULT_MAX_CACHED_WORKFLOWS } from '@runbooks/worker';
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  abortAfter,
  bundleBenchWorkflows,
  bundleFacts,
  fixed,
  flagArg,
  installQuietRuntime,
  intArg,
  mb,
  spread,
  startBenchServer,
  stopServer,
  waitUntilParked,
} from './common';
import type { DevServer } from './harness/dev-server';
import { BenchReport } from './results';
import { inPool } from './service';

const SMOKE = flagArg('smoke');
const PARKED = intArg('parked', SMOKE ? 50 : 1000);
const ROUNDS = intArg('rounds', SMOKE ? 1 : 2);
const MAX_MINUTES = intArg('max-minutes', 30);
const CONCURRENCY = 32;
const CAPPED = flagArg('capped');
/** With --capped: the cache may hold this much more than when it was full before the RSS counts as grown. */
const CAPPED_GROWTH_LIMIT = 1.2;

type Kind = 'ours' | 'bare';
interface Phase {
  kind: Kind;
  round: number;
  idleMb: number;
  parkedMb: number;
  parkSeconds: number;
}

async function main(): Promise<number> {
  let server: DevServer | undefined;
  abortAfter(MAX_MINUTES, 'parked-runs bench', () => server);
  installQuietRuntime();
  if (CAPPED) return cappedMain();
  const report = new BenchReport('parked-runs', { parked: PARKED, rounds: ROUNDS });
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'runbooks-bench-parked-'));
  let connection: Connection | undefined;
  try {
    console.log(
      `parked-runs bench: ${PARKED} runs parked at an approval, ${ROUNDS} round(s); ${os.cpus().length} cores, Node ${process.version}`,
    );
    const [dev, ourBundle, bareBundle] = await Promise.all([
      startBenchServer(),
      bundleBenchWorkflows('overhead/workflows.ts', root),
      bundleBenchWorkflows('baseline/plain-workflows.ts', root, { bare: true }),
    ]);
    server = dev;
    const address = server.address;
    connection = await Connection.connect({ address });
    const client = new Client({ connection, namespace: 'default' });
    const bundles = { ours: await bundleFacts(ourBundle), bare: await bundleFacts(bareBundle) };

    const phase = async (kind: Kind, round: number): Promise<Phase> => {
      const taskQueue = `bench-parked-${kind}-${randomUUID()}`;
      const child = fork(
        path.join(__dirname, 'parked-worker.js'),
        [kind, address, taskQueue, kind === 'ours' ? ourBundle : bareBundle, path.join(root, `${kind}-${round}`), String(PARKED + 100)],
        { stdio: 'inherit' },
      );
      try {
        await nextMessage(child);
        const idle = (await ask(child)).rss;
        const ids = Array.from({ length: PARKED }, () => `bench-parked-${kind}-${randomUUID()}`);
        const t0 = performance.now();
        await inPool(PARKED, CONCURRENCY, async (i) => {
          if (kind === 'ours') {
            await client.workflow.start('engineApprovalThenNoop', {
              taskQueue,
              workflowId: ids[i],
              args: [{ input: {}, requestedBy: { id: 'tess', displayName: 'Tess Technician' } } satisfies RunbookStartArgs],
              typedSearchAttributes: [
                { key: RunbookNameAttr, value: 'bench-approval' },
                { key: RequestedByAttr, value: 'tess' },
                { key: RunStatusAttr, value: 'running' },
              ],
            });
          } else {
            await client.workflow.start('bareApprovalThenNoop', { taskQueue, workflowId: ids[i], args: [] });
          }
        });
        await waitUntilParked(client, ids, CONCURRENCY);
        const parkSeconds = (performance.now() - t0) / 1000;
        const parked = (await ask(child)).rss;
        await inPool(PARKED, CONCURRENCY, (i) =>
          client.workflow
            .getHandle(ids[i])
            .terminate('bench phase over')
            .then(() => undefined),
        );
        console.log(
          `  round ${round} ${kind}: idle ${fixed(mb(idle), 0)} MB, ${PARKED} parked ${fixed(mb(parked), 0)} MB in ${fixed(parkSeconds, 1)} s`,
        );
        return { kind, round, idleMb: mb(idle), parkedMb: mb(parked), parkSeconds };
      } finally {
        child.send('stop');
        await Promise.race([new Promise((r) => child.once('exit', r)), new Promise((r) => setTimeout(r, 15_000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
    };

    const phases: Phase[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      for (const kind of round % 2 === 1 ? (['bare', 'ours'] as const) : (['ours', 'bare'] as const)) {
        try {
          phases.push(await phase(kind, round));
        } catch (error) {
          report.problem(`round ${round} ${kind}: ${String(error)}`);
        }
      }
    }
    const of = (kind: Kind) => phases.filter((p) => p.kind === kind);
    report.check(of('ours').length === ROUNDS && of('bare').length === ROUNDS, 'a side did not park all its runs in every round');
    const perRun = (p: Phase) => (p.parkedMb - p.idleMb) / PARKED;
    const rounds = Array.from({ length: ROUNDS }, (_, i) => i + 1).filter((r) => phases.filter((p) => p.round === r).length === 2);
    const ratio = (f: (p: Phase) => number) =>
      rounds.map(
        (r) => f(phases.find((p) => p.round === r && p.kind === 'ours')!) / f(phases.find((p) => p.round === r && p.kind === 'bare')!),
      );
    report.table(
      `${PARKED} runs parked at an approval, each worker in its own process with a cache of ${PARKED + 100}; RSS after a full GC`,
      ['side', 'round', 'RSS idle MB', `RSS with ${PARKED} parked MB`, 'MB per parked run', 'seconds to park'],
      phases.map((p) => [p.kind, p.round, fixed(p.idleMb, 0), fixed(p.parkedMb, 0), fixed(perRun(p), 2), fixed(p.parkSeconds, 1)]),
    );
    const rssRatios = ratio((p) => p.parkedMb);
    const perRunRatios = ratio(perRun);
    report.table(
      'ratio ours/bare, median (min–max) over the rounds',
      ['figure', 'ratio'],
      [
        [`worker RSS with ${PARKED} parked`, spread(rssRatios)],
        ['memory per parked run', spread(perRunRatios)],
        ['workflow bundle size', fixed(bundles.ours.kb / bundles.bare.kb)],
      ],
    );
    report.table(
      'the workflow bundles (inline source map included); ours preloads zod, the contracts package and the workflow modules ' +
        'once per worker (PRELOADED_MODULES in apps/worker/src/bundle.ts), the bare one nothing',
      ['bundle', 'KB', 'modules', 'zod modules'],
      (['ours', 'bare'] as const).map((kind) => [kind, fixed(bundles[kind].kb, 0), bundles[kind].modules, bundles[kind].zodModules]),
    );
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
    if (rounds.length > 0) {
      const r = median(rssRatios);
      report.goal(`${PARKED} runs parked at an approval: worker RSS vs bare`, '≤ 1.2', fixed(r), r <= 1.2);
      const ours = of('ours');
      const idle = median(ours.map((p) => p.idleMb));
      const per = median(ours.map(perRun));
      const cap = DEFAULT_MAX_CACHED_WORKFLOWS;
      const bound = idle + cap * per;
      report.note(
        `With the cache capped at ${cap} runs (RUNBOOKS_WORKER_MAX_CACHED_WORKFLOWS) the worker's RSS stays near idle + cap × memory per run = ` +
          `${fixed(idle, 0)} + ${cap} × ${fixed(per, 2)} ≈ ${fixed(bound, 0)} MB however many runs wait; parked-runs-capped (--large) parks 10,000 to show it.`,
      );
    }
    report.note(
      'A run beyond the cache is evicted and replayed from its history at its next task (an approval, a timer): the cap bounds memory, not the number of waiting runs.',
    );
    return report.finish();
  } finally {
    await connection?.close().catch(() => undefined);
    await stopServer(server);
    await fs.rm(root, { recursive: true, force: true });
  }
}

/**
 * --capped: our worker with its default cache cap parks PARKED runs. Met when the RSS with all of
 * them parked is within CAPPED_GROWTH_LIMIT of the RSS when the cache first filled, and the
 * earliest runs, long evicted, still answer (replayed from their histories).
 */
async function cappedMain(): Promise<number> {
  let server: DevServer | undefined;
  abortAfter(MAX_MINUTES, 'parked-runs --capped bench', () => server);
  const cap = DEFAULT_MAX_CACHED_WORKFLOWS;
  const report = new BenchReport('parked-runs-capped', { parked: PARKED, cache: cap });
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'runbooks-bench-parked-capped-'));
  let connection: Connection | undefined;
  try {
    if (PARKED <= cap) throw new Error(`--capped needs --parked above the cache cap (${cap})`);
    console.log(`parked-runs bench, capped: ${PARKED} runs parked, our worker's cache at its default ${cap}`);
    const [dev, ourBundle] = await Promise.all([startBenchServer(), bundleBenchWorkflows('overhead/workflows.ts', root)]);
    server = dev;
    connection = await Connection.connect({ address: server.address });
    const client = new Client({ connection, namespace: 'default' });
    const taskQueue = `bench-parked-capped-${randomUUID()}`;
    const child = fork(
      path.join(__dirname, 'parked-worker.js'),
      ['ours', server.address, taskQueue, ourBundle, path.join(root, 'ours'), String(cap)],
      {
        stdio: 'inherit',
      },
    );
    try {
      await nextMessage(child);
      const idle = mb((await ask(child)).rss);
      const ids = Array.from({ length: PARKED }, () => `bench-parked-capped-${randomUUID()}`);
      const park = async (from: number, to: number) => {
        await inPool(to - from, CONCURRENCY, async (i) => {
          await client.workflow.start('engineApprovalThenNoop', {
            taskQueue,
            workflowId: ids[from + i],
            args: [{ input: {}, requestedBy: { id: 'tess', displayName: 'Tess Technician' } } satisfies RunbookStartArgs],
            typedSearchAttributes: [
              { key: RunbookNameAttr, value: 'bench-approval' },
              { key: RequestedByAttr, value: 'tess' },
              { key: RunStatusAttr, value: 'running' },
            ],
          });
        });
        await waitUntilParked(client, ids.slice(from, to), CONCURRENCY);
      };
      const t0 = performance.now();
      await park(0, cap);
      const full = mb((await ask(child)).rss);
      console.log(`  ${cap} parked (cache full): ${fixed(full, 0)} MB`);
      await park(cap, PARKED);
      const parkSeconds = (performance.now() - t0) / 1000;
      const all = mb((await ask(child)).rss);
      console.log(`  ${PARKED} parked: ${fixed(all, 0)} MB in ${fixed(parkSeconds, 0)} s`);
      // The first runs parked were evicted long ago: a query makes the worker replay each from its history.
      const sample = ids.slice(0, 20);
      const answered = await Promise.all(
        sample.map((id) =>
          client.workflow
            .getHandle(id)
            .query(runStateQuery)
            .then((state) => state.status === 'awaiting_approval')
            .catch(() => false),
        ),
      );
      const replayed = answered.filter(Boolean).length;
      report.check(replayed === sample.length, `${sample.length - replayed} of ${sample.length} evicted runs did not answer as waiting`);
      await inPool(PARKED, CONCURRENCY, (i) =>
        client.workflow
          .getHandle(ids[i])
          .terminate('bench over')
          .then(() => undefined)
          .catch(() => undefined),
      );
      report.table(
        `our worker with its default cache of ${cap} runs (RUNBOOKS_WORKER_MAX_CACHED_WORKFLOWS), ${PARKED} runs parked at an approval; RSS after a full GC`,
        [
          'RSS idle MB',
          `RSS with ${cap} parked (cache full) MB`,
          `RSS with ${PARKED} parked MB`,
          'growth after the cache filled',
          'seconds to park',
          'evicted runs answering',
        ],
        [[fixed(idle, 0), fixed(full, 0), fixed(all, 0), fixed(all / full), fixed(parkSeconds, 0), `${replayed} of ${sample.length}`]],
      );
      report.goal(
        `${PARKED} parked runs fit the stated cache and memory`,
        `cache ${cap} runs; RSS ≤ ${CAPPED_GROWTH_LIMIT}x the RSS at a full cache`,
        `${fixed(all, 0)} MB with ${PARKED} parked, ${fixed(all / full)}x the ${fixed(full, 0)} MB at ${cap}`,
        all / full <= CAPPED_GROWTH_LIMIT && replayed === sample.length,
      );
    } finally {
      child.send('stop');
      await Promise.race([new Promise((r) => child.once('exit', r)), new Promise((r) => setTimeout(r, 15_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    return report.finish();
  } finally {
    await connection?.close().catch(() => undefined);
    await stopServer(server);
    await fs.rm(root, { recursive: true, force: true });
  }
}

function nextMessage(child: ChildProcess): Promise<{ rss: number }> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`worker process exited (${code}) before answering`));
    child.once('exit', onExit);
    child.once('message', (m) => {
      child.off('exit', onExit);
      resolve(m as { rss: number });
    });
  });
}

function ask(child: ChildProcess): Promise<{ rss: number }> {
  const answer = nextMessage(child);
  child.send('rss');
  return answer;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('parked-runs bench failed:', error);
    process.exit(1);
  },
);
