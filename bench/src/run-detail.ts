/**
 * Run-detail bench (issue 9 item 5, issue 15): `GET /v1/runs/{id}` on the real API for a
 * security-patching run over a lab fleet of N hosts, parked at its production gate (canary done,
 * every production host pending): the response's size, and its latency from 32 concurrent
 * clients against the bare way to read a run's status, `describe` from 32 concurrent callers,
 * in rounds that turn which side goes first; the p99 ratio is the median of the rounds'.
 *
 * The API serves from a process of its own (as launch-throughput and approval-latency do), apart
 * from the 32 HTTP clients, the describe() callers and the worker in this process; `--api-in-process`
 * serves it from this process as before (one event loop queueing all of them).
 *
 *   node bench/dist/run-detail.js [--hosts 1000,10000] [--rounds 3] [--requests 160] [--clients 32] [--smoke] [--max-minutes 30] [--api-in-process] [--out file.json]
 */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { AwaitingApprovalAttr } from '@runbooks/contracts';
import { bundleRunbookWorkflows } from '@runbooks/worker';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  abortAfter,
  fixed,
  flagArg,
  installQuietRuntime,
  intArg,
  intListArg,
  percentile,
  sleep,
  spread,
  startBenchServer,
  stopServer,
  writeBundle,
} from './common';
import type { DevServer } from './harness/dev-server';
import { BenchReport } from './results';
import { DEMO_TOKENS, inPool, labFleet, startBenchApi, startBenchApiProcess, startOurWorker, timedFetch } from './service';

const SMOKE = flagArg('smoke');
const SIZES = intListArg('hosts', SMOKE ? [50] : [1000, 10_000]);
const ROUNDS = intArg('rounds', SMOKE ? 1 : 3);
/** Requests of each side per round. */
const REQUESTS = intArg('requests', SMOKE ? 64 : 160);
const CLIENTS = intArg('clients', 32);
const MAX_MINUTES = intArg('max-minutes', 30);
const API_IN_PROCESS = flagArg('api-in-process');
const SIZE_LIMIT_KB = 64;
const P99_LIMIT_MS = 200;

async function main(): Promise<number> {
  let server: DevServer | undefined;
  abortAfter(MAX_MINUTES, 'run-detail bench', () => server);
  installQuietRuntime();
  const report = new BenchReport('run-detail', { hosts: SIZES, rounds: ROUNDS, requests: REQUESTS, clients: CLIENTS });
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'runbooks-bench-detail-'));
  let connection: Connection | undefined;
  let native: NativeConnection | undefined;
  try {
    console.log(
      `run-detail bench: fleets of ${SIZES.join(', ')} hosts, ${ROUNDS} round(s) of ${REQUESTS} requests a side from ${CLIENTS} clients; ${os.cpus().length} cores, Node ${process.version}`,
    );
    const [dev, bundle] = await Promise.all([
      startBenchServer(),
      bundleRunbookWorkflows().then((b) => writeBundle(b.code, root, 'runbooks')),
    ]);
    server = dev;
    connection = await Connection.connect({ address: server.address });
    const client = new Client({ connection, namespace: 'default' });
    native = await NativeConnection.connect({ address: server.address });
    const rows: (string | number)[][] = [];
    let worstKb = 0;
    let worstP99 = 0;
    for (const hosts of SIZES) {
      const dir = path.join(root, `fleet-${hosts}`);
      const lab = await labFleet(dir, hosts);
      const taskQueue = `bench-detail-${randomUUID()}`;
      const worker = await startOurWorker({ native, taskQueue, bundlePath: bundle, dir, lab });
      const apiOptions = { temporalAddress: server.address, taskQueue, dir, store: lab.storeLocation };
      const api = API_IN_PROCESS ? await startBenchApi(apiOptions) : await startBenchApiProcess(apiOptions);
      try {
        const launched = await timedFetch(`${api.url}/v1/runs`, {
          method: 'POST',
          token: DEMO_TOKENS.technician,
          body: {
            runbook: 'security-patching',
            input: {
              targets: { tags: ['lab'] },
              patches: [{ package: 'openssl', version: '3.0.15' }],
              waves: ['rest'],
              batchSize: 200,
              concurrency: 50,
              bakeSeconds: 0,
              failureThreshold: { percent: 10 },
              ticket: 'BENCH-1',
            },
          },
        });
        if (launched.status !== 201) throw new Error(`launch: HTTP ${launched.status} ${launched.body.slice(0, 300)}`);
        const { runId } = JSON.parse(launched.body) as { runId: string };
        const handle = client.workflow.getHandle(runId);
        for (;;) {
          const d = await handle.describe();
          if (d.typedSearchAttributes.get(AwaitingApprovalAttr) === true) break;
          if (d.status.name !== 'RUNNING') throw new Error(`run ${runId} ended ${d.status.name} before its production gate`);
          await sleep(250);
        }
        const url = `${api.url}/v1/runs/${encodeURIComponent(runId)}`;
        const first = await timedFetch(url, { token: DEMO_TOKENS.technician });
        report.check(first.status === 200, `GET ${runId} at ${hosts} hosts: HTTP ${first.status}`);
        // Warm-up, not measured (as launch-throughput's): connections and JIT on both sides.
        await inPool(CLIENTS, CLIENTS, async () => {
          await Promise.all([timedFetch(url, { token: DEMO_TOKENS.technician }), handle.describe()]);
        });
        const ours: number[] = [];
        const bare: number[] = [];
        const p99Ratios: number[] = [];
        let failures = 0;
        for (let round = 1; round <= ROUNDS; round++) {
          const inRound = { ours: [] as number[], bare: [] as number[] };
          // The side that goes first turns with each round, so drift falls on both sides alike.
          for (const kind of round % 2 === 1 ? (['ours', 'bare'] as const) : (['bare', 'ours'] as const)) {
            await inPool(REQUESTS, CLIENTS, async () => {
              if (kind === 'ours') {
                const res = await timedFetch(url, { token: DEMO_TOKENS.technician });
                if (res.status !== 200) failures += 1;
                inRound.ours.push(res.ms);
              } else {
                const c0 = performance.now();
                await handle.describe();
                inRound.bare.push(performance.now() - c0);
              }
            });
          }
          p99Ratios.push(percentile(inRound.ours, 99) / percentile(inRound.bare, 99));
          ours.push(...inRound.ours);
          bare.push(...inRound.bare);
        }
        report.check(failures === 0, `${failures} GET /v1/runs/{id} failed at ${hosts} hosts`);
        report.check(
          ours.length === ROUNDS * REQUESTS && bare.length === ROUNDS * REQUESTS,
          `at ${hosts} hosts: ${ours.length} GETs and ${bare.length} describe() calls, expected ${ROUNDS * REQUESTS} each`,
        );
        const kb = first.bytes / 1024;
        const p99 = percentile(ours, 99);
        worstKb = Math.max(worstKb, kb);
        worstP99 = Math.max(worstP99, p99);
        rows.push([
          hosts,
          fixed(kb, 1),
          fixed(percentile(ours, 50), 0),
          fixed(p99, 0),
          fixed(percentile(bare, 50), 0),
          fixed(percentile(bare, 99), 0),
          spread(p99Ratios),
        ]);
        console.log(`  ${hosts} hosts: ${fixed(kb, 1)} KB, p99 ${fixed(p99, 0)} ms`);
        await handle.terminate('bench over');
      } finally {
        await api.close();
        await worker.stop();
        await lab.store.close();
      }
    }
    report.table(
      `GET /v1/runs/{id} of a security-patching run parked at its production gate (every production host pending); ` +
        `${ROUNDS} round(s) of ${REQUESTS} requests from ${CLIENTS} concurrent clients, against describe() from ${CLIENTS} concurrent callers, ` +
        'the side going first turning (ms over all rounds; ratio: median (min–max) of the per-round p99 ratios)',
      ['hosts', 'response KB', 'ours p50', 'ours p99', 'describe p50', 'describe p99', 'ratio p99'],
      rows,
    );
    report.note(
      API_IN_PROCESS
        ? 'The API served from the bench process itself (--api-in-process), sharing its event loop with the HTTP clients, the describe() callers and the worker.'
        : 'The API served from a process of its own (bench/src/api-process.ts), as a server apart from its clients; the worker and the describe() callers run in the bench process.',
    );
    report.goal(
      `GET /v1/runs/{id} size at ${SIZES.join(', ')} hosts`,
      `< ${SIZE_LIMIT_KB} KB`,
      `largest ${fixed(worstKb, 1)} KB`,
      worstKb < SIZE_LIMIT_KB,
    );
    report.goal(
      `GET /v1/runs/{id} p99 at ${CLIENTS} concurrent clients`,
      `< ${P99_LIMIT_MS} ms`,
      `worst ${fixed(worstP99, 0)} ms`,
      worstP99 < P99_LIMIT_MS,
    );
    return report.finish();
  } finally {
    await native?.close().catch(() => undefined);
    await connection?.close().catch(() => undefined);
    await stopServer(server);
    await fs.rm(root, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('run-detail bench failed:', error);
    process.exit(1);
  },
);
