/**
 * Launch-throughput bench: `POST /v1/runs` on the real API (validation, admission, the launch
 * hash, Temporal start with search attributes and memo) from 64 concurrent clients, against raw
 * `client.workflow.start` of the same workflow type with the same arguments, search attributes
 * and memo from 64 concurrent callers. No worker polls the queue on either side (the figure is
 * the launch path, not the runs). A third side, a diagnostic outside the goal: the HTTP floor, the
 * bare call made by a plain HTTP server in a process of its own (http-floor-process.ts), what any
 * HTTP front of Temporal pays for the hop alone on this machine. Each round runs the sides in another of their six orders (ORDERS).
 *
 *   node bench/dist/launch-throughput.js [--rounds 6] [--launches 1000] [--clients 64] [--smoke] [--max-minutes 20] [--api-in-process] [--out file.json]
 */
import { Client, Connection } from '@temporalio/client';
import {
  AwaitingApprovalAttr,
  RUN_MEMO,
  RequestedByAttr,
  RunStatusAttr,
  RunbookNameAttr,
  canonicalJson,
  diskReplacementRunbook,
  runWorkflowId,
  type RunbookStartArgs,
} from '@runbooks/contracts';
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  CpuMeter,
  abortAfter,
  fixed,
  flagArg,
  installQuietRuntime,
  intArg,
  percentile,
  spread,
  startBenchServer,
  stopServer,
} from './common';
import type { DevServer } from './harness/dev-server';
import { BenchReport } from './results';
import {
  DEMO_TOKENS,
  dropIdleConnections,
  inPool,
  startBenchApi,
  startBenchApiProcess,
  startHttpFloorProcess,
  timedFetch,
} from './service';

const SMOKE = flagArg('smoke');
/** A multiple of six gives every order of the sides equally often (ORDERS). */
const ROUNDS = intArg('rounds', SMOKE ? 1 : 6);
const LAUNCHES = intArg('launches', SMOKE ? 100 : 1000);
const CLIENTS = intArg('clients', 64);
const MAX_MINUTES = intArg('max-minutes', 20);
/** Serve the API from the bench's own process, as the bench did before it had one of its own. */
const API_IN_PROCESS = flagArg('api-in-process');

const INPUT = { host: 'db-07', slot: 'bay 3', notify: ['dba-team'], slaSeconds: 3600 };

type Kind = 'ours' | 'bare' | 'floor';
const KINDS: readonly Kind[] = ['bare', 'ours', 'floor'];
/**
 * The order of the sides in each round: all six orders of the three, so over six rounds each side
 * goes first, second and third twice and ours goes before bare as often as after. The server slows
 * as its runs pile up (every round adds 3,000 open runs), so a side later in a round is at a small
 * disadvantage; turning the first side alone (three orders) put bare before ours in two of three.
 */
const ORDERS: readonly (readonly Kind[])[] = [
  ['bare', 'ours', 'floor'],
  ['floor', 'ours', 'bare'],
  ['ours', 'floor', 'bare'],
  ['bare', 'floor', 'ours'],
  ['ours', 'bare', 'floor'],
  ['floor', 'bare', 'ours'],
];
const SIDE_NAMES: Record<Kind, string> = {
  ours: 'ours (POST /v1/runs)',
  bare: 'bare (client.workflow.start)',
  floor: 'HTTP floor (plain HTTP server → client.workflow.start)',
};
interface Phase {
  kind: Kind;
  round: number;
  perSecond: number;
  latencies: number[];
  errors: string[];
  /** CPU time per launch of the launching side's own processes (ms): the bench's, plus the API's when it runs apart. */
  cpuMsPerLaunch: number;
  /** The API (or HTTP floor) process's part of cpuMsPerLaunch (0 for bare, and for ours with --api-in-process): where a change to the API shows. */
  apiCpuMsPerLaunch: number;
  /** The Temporal dev server's CPU time per launch (ms), NaN where /proc does not tell. */
  serverCpuMsPerLaunch: number;
}

async function main(): Promise<number> {
  let server: DevServer | undefined;
  abortAfter(MAX_MINUTES, 'launch-throughput bench', () => server);
  installQuietRuntime();
  const report = new BenchReport('launch-throughput', { rounds: ROUNDS, launchesPerRound: LAUNCHES, clients: CLIENTS });
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'runbooks-bench-launch-'));
  let connection: Connection | undefined;
  const closes: (() => Promise<void>)[] = [];
  try {
    console.log(
      `launch-throughput bench: ${ROUNDS} round(s) of ${LAUNCHES} launches each side, ${CLIENTS} clients; ${os.cpus().length} cores, Node ${process.version}`,
    );
    server = await startBenchServer();
    const devServer = server;
    connection = await Connection.connect({ address: server.address });
    const client = new Client({ connection, namespace: 'default' });
    const taskQueue = `bench-launch-${randomUUID()}`;
    const store = { kind: 'sqlite' as const, file: path.join(root, 'runbooks.sqlite') };
    const options = { temporalAddress: server.address, taskQueue, dir: root, store };
    const api = API_IN_PROCESS ? await startBenchApi(options) : await startBenchApiProcess(options);
    closes.push(api.close);
    const floor = await startHttpFloorProcess({ temporalAddress: server.address });
    closes.push(floor.close);
    /** CPU so far (ms) of the side's server process: the API for ours, the plain HTTP server for the floor. */
    const serverProcessCpuMs = async (kind: Kind) =>
      kind === 'floor' ? await floor.cpuMs() : kind === 'ours' && 'cpuMs' in api ? await api.cpuMs() : 0;
    const inputSha256 = createHash('sha256').update(canonicalJson(INPUT), 'utf8').digest('hex');

    const launchOurs = async (): Promise<string | undefined> => {
      const res = await timedFetch(`${api.url}/v1/runs`, {
        method: 'POST',
        token: DEMO_TOKENS.technician,
        body: { runbook: diskReplacementRunbook.name, input: INPUT },
      });
      return res.status === 201 ? undefined : `HTTP ${res.status}: ${res.body.slice(0, 200)}`;
    };
    /** The bare side's call: what ours' API sends for the launch, made straight. */
    const bareStart = () => ({
      workflowType: diskReplacementRunbook.workflowType,
      options: {
        taskQueue,
        workflowId: runWorkflowId(diskReplacementRunbook.name, randomUUID()),
        args: [{ input: INPUT, requestedBy: { id: 'tess', displayName: 'Tess Technician' }, inputSha256 } satisfies RunbookStartArgs],
        typedSearchAttributes: [
          { key: RunbookNameAttr, value: diskReplacementRunbook.name },
          { key: RequestedByAttr, value: 'tess' },
          { key: RunStatusAttr, value: 'running' },
          { key: AwaitingApprovalAttr, value: false },
        ],
        memo: { [RUN_MEMO.inputSha256]: inputSha256 },
      },
    });
    const launchBare = async (): Promise<string | undefined> => {
      const { workflowType, options } = bareStart();
      await client.workflow.start(workflowType, options);
      return undefined;
    };
    const launchFloor = async (): Promise<string | undefined> => {
      const res = await timedFetch(`${floor.url}/start`, { method: 'POST', body: bareStart() });
      return res.status === 201 ? undefined : `HTTP ${res.status}: ${res.body.slice(0, 200)}`;
    };
    const launchers: Record<Kind, () => Promise<string | undefined>> = { ours: launchOurs, bare: launchBare, floor: launchFloor };
    const burst = async (kind: Kind, round: number, count: number): Promise<Phase> => {
      const launch = launchers[kind];
      const latencies: number[] = [];
      const errors: string[] = [];
      dropIdleConnections(); // idle since this side's last burst, longer than a server keeps them
      const meter = new CpuMeter(devServer);
      const apiCpu0 = await serverProcessCpuMs(kind);
      const t0 = performance.now();
      await inPool(count, CLIENTS, async () => {
        const c0 = performance.now();
        const error = await launch().catch((e: unknown) => String(e));
        latencies.push(performance.now() - c0);
        if (error) errors.push(error);
      });
      const perSecond = count / ((performance.now() - t0) / 1000);
      const cpu = meter.stop();
      const apiCpu = (await serverProcessCpuMs(kind)) - apiCpu0;
      const cpuMsPerLaunch = (cpu.processMs + apiCpu) / count;
      const serverCpuMsPerLaunch = cpu.serverMs !== undefined ? cpu.serverMs / count : NaN;
      return { kind, round, perSecond, latencies, errors, cpuMsPerLaunch, apiCpuMsPerLaunch: apiCpu / count, serverCpuMsPerLaunch };
    };

    for (const kind of KINDS) await burst(kind, 0, CLIENTS); // warm-up: connections, JIT
    const phases: Phase[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      for (const kind of ORDERS[(round - 1) % ORDERS.length]) {
        const p = await burst(kind, round, LAUNCHES);
        phases.push(p);
        console.log(
          `  round ${round} ${kind}: ${fixed(p.perSecond, 0)} launches/s, p99 ${fixed(percentile(p.latencies, 99), 0)} ms, ` +
            `${fixed(p.cpuMsPerLaunch, 2)} CPU ms/launch${p.apiCpuMsPerLaunch ? ` (its server process ${fixed(p.apiCpuMsPerLaunch, 2)})` : ''}, ` +
            `${p.errors.length} errors`,
        );
        for (const e of [...new Set(p.errors)].slice(0, 3)) console.error(`    ${e}`);
      }
    }
    const errors = phases.reduce((n, p) => n + p.errors.length, 0);
    report.check(errors === 0, `${errors} launches failed`);
    // Every launch must have started a run: count them on the server.
    const started = await countRuns(client, taskQueue);
    const expected = KINDS.length * (CLIENTS + ROUNDS * LAUNCHES);
    report.check(started === expected - errors, `the server holds ${started} runs, expected ${expected - errors}`);
    /** Per round, one side's figure over another's (ours over bare unless told). */
    const byRound = (f: (p: Phase) => number, side: Kind = 'ours', base: Kind = 'bare') =>
      Array.from({ length: ROUNDS }, (_, i) => {
        const of = (kind: Kind) => phases.find((p) => p.round === i + 1 && p.kind === kind)!;
        return f(of(side)) / f(of(base));
      });
    const all = (kind: Kind) => phases.filter((p) => p.kind === kind).flatMap((p) => p.latencies);
    const rate = (kind: Kind) => phases.filter((p) => p.kind === kind).map((p) => p.perSecond);
    report.table(
      `${ROUNDS} round(s) of ${LAUNCHES} launches each side from ${CLIENTS} concurrent clients; latency per launch over all rounds (ms); ` +
        'ratio: median (min–max) of the per-round ratios',
      ['side', 'launches/s per round', 'p50 ms', 'p99 ms', 'CPU ms/launch', 'errors'],
      (['ours', 'bare', 'floor'] as const).map((kind) => [
        SIDE_NAMES[kind],
        spread(rate(kind), 0),
        fixed(percentile(all(kind), 50), 1),
        fixed(percentile(all(kind), 99), 1),
        spread(
          phases.filter((p) => p.kind === kind).map((p) => p.cpuMsPerLaunch),
          1,
        ),
        phases.filter((p) => p.kind === kind).reduce((n, p) => n + p.errors.length, 0),
      ]),
    );
    report.note(
      (API_IN_PROCESS
        ? 'The API served from the bench process itself (--api-in-process), sharing its event loop with the HTTP load. '
        : 'The API served from a process of its own (bench/src/api-process.ts), as a server apart from its clients. ') +
        "CPU ms/launch: CPU time of the launching side's processes (the bench, plus the API process for ours, the plain HTTP server for the floor) per launch, " +
        'the Temporal server not counted; on a loaded machine it moves less than launches/s.',
    );
    // Where the ratio is bounded: the server and the launching side share these cores.
    const median = (kind: Kind, f: (p: Phase) => number) => percentile(phases.filter((p) => p.kind === kind).map(f), 50);
    const serverMs = {
      ours: median('ours', (p) => p.serverCpuMsPerLaunch),
      bare: median('bare', (p) => p.serverCpuMsPerLaunch),
      floor: median('floor', (p) => p.serverCpuMsPerLaunch),
    };
    const side = {
      ours: median('ours', (p) => p.cpuMsPerLaunch),
      bare: median('bare', (p) => p.cpuMsPerLaunch),
      floor: median('floor', (p) => p.cpuMsPerLaunch),
    };
    if (Number.isFinite(serverMs.ours) && Number.isFinite(serverMs.bare)) {
      // With the cores busy, launches/s ≈ cores / (server + launching side CPU per launch); 0.9x bare allows this much for ours' side.
      const allowed = (serverMs.bare + side.bare) / 0.9 - serverMs.ours;
      const bound =
        `CPU per launch, median of the rounds: the Temporal server ${fixed(serverMs.ours, 2)} ms for ours, ${fixed(serverMs.bare, 2)} ms for bare ` +
        `(${fixed(serverMs.floor, 2)} ms for the HTTP floor, which sends bare's very request); ` +
        `the launching side ${fixed(side.ours, 2)} ms (API process ${fixed(
          median('ours', (p) => p.apiCpuMsPerLaunch),
          2,
        )}) against ${fixed(side.bare, 2)}. ` +
        `Both share these ${os.cpus().length} cores, so launches/s ≈ cores / (server + launching side): ` +
        `0.9x bare leaves ours' launching side ${fixed(allowed, 2)} ms per launch, the HTTP client and the API together; ` +
        `the HTTP floor's launching side took ${fixed(side.floor, 2)} ms (its plain server ${fixed(
          median('floor', (p) => p.apiCpuMsPerLaunch),
          2,
        )}) for the hop and the call alone.`;
      report.note(bound);
      console.log(bound);
    }
    const throughput = byRound((p) => p.perSecond);
    const p99 = byRound((p) => percentile(p.latencies, 99));
    report.table(
      'ratio ours/bare (the goal), and the HTTP floor beside it: what a plain HTTP hop alone costs bare, and ours against that floor',
      ['figure', 'ours/bare', 'HTTP floor/bare', 'ours/HTTP floor'],
      (
        [
          ['launches/s', (p: Phase) => p.perSecond],
          ['p99 latency', (p: Phase) => percentile(p.latencies, 99)],
          ['CPU ms per launch', (p: Phase) => p.cpuMsPerLaunch],
        ] as const
      ).map(([figure, f]) => [figure, spread(byRound(f)), spread(byRound(f, 'floor')), spread(byRound(f, 'ours', 'floor'))]),
    );
    const t = percentile(throughput, 50);
    report.goal(
      `launch throughput: POST /v1/runs at ${CLIENTS} clients vs raw client.workflow.start, zero errors`,
      '≥ 0.9, 0 errors',
      `${fixed(t)}, p99 ratio ${fixed(percentile(p99, 50))}, ${errors} errors`,
      t >= 0.9 && errors === 0,
    );
    return report.finish();
  } finally {
    for (const close of closes) await close().catch(() => undefined);
    await connection?.close().catch(() => undefined);
    await stopServer(server);
    await fs.rm(root, { recursive: true, force: true });
  }
}

/** Runs on the queue, as visibility counts them once it has caught up (it is written asynchronously). */
async function countRuns(client: Client, taskQueue: string): Promise<number> {
  let last = -1;
  for (let i = 0; i < 20; i++) {
    const { count } = await client.workflow.count(`TaskQueue = "${taskQueue}"`);
    if (count === last) return count;
    last = count;
    await new Promise((r) => setTimeout(r, 1000));
  }
  return last;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('launch-throughput bench failed:', error);
    process.exit(1);
  },
);
