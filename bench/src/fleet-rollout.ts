/**
 * Fleet rollout bench: our securityPatching campaign over a lab fleet of N hosts against the same
 * fan-out written as bare Temporal code (bench/src/baseline), in one process run, on one dev server
 * with Temporal's default continue-as-new suggestion. Prints throughput, largest history,
 * continue-as-new count, largest payload and RSS high-water mark for each, as ratios
 * ours/baseline, and checks that every host was patched exactly once in each campaign's ledger.
 * `--ours-only` runs our campaign alone (for fleets the bare fan-out is not needed to judge, such
 * as 100,000 hosts: no history over 4,096 events, no payload over 256 KB); `--bare-only` the bare
 * fan-out alone (a diagnostic: to CPU-profile one side). Also the work per host of each side: CPU
 * of this process (the workers) and of the dev server, history events, workflow tasks,
 * activities, payload bytes and server requests.
 *
 *   node bench/dist/fleet-rollout.js [--hosts 10000] [--rounds 1] [--ours-only | --bare-only] [--smoke] [--max-minutes 20] [--out file.json]
 */
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import {
  AwaitingApprovalAttr,
  RequestedByAttr,
  RunStatusAttr,
  RunbookNameAttr,
  decideApprovalUpdate,
  rolloutCounts,
  runStateQuery,
  securityPatchingInputSchema,
  securityPatchingRunbook,
  type Principal,
  type RunState,
  type RunbookStartArgs,
  type SecurityPatchingInput,
} from '@runbooks/contracts';
import { LogNotifier, createActivities, type LedgerEntry } from '@runbooks/activities';
import { bundleRunbookWorkflows, createRunbookWorker } from '@runbooks/worker';
import { createLabFleet, type LabFleetFixture } from '@runbooks/worker/dist/demo/lab-fixture';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createBareActivities } from './baseline/activities';
import type { BareCounts, BareRolloutInput } from './baseline/workflows';
import {
  RssSampler,
  abortAfter,
  CpuMeter,
  bundleBenchWorkflows,
  collectGarbage,
  countsSince,
  fixed,
  flagArg,
  historiesByPrefix,
  historyWork,
  installQuietRuntime,
  intArg,
  serverRequests,
  sleep,
  spread,
  startBenchServer,
  stopServer,
  writeBundle,
  type HistoryFigures,
  type HistoryWork,
} from './common';
import { BenchReport } from './results';
import type { DevServer } from './harness/dev-server';

const SMOKE = flagArg('smoke');
const HOSTS = intArg('hosts', SMOKE ? 200 : 10_000);
const ROUNDS = intArg('rounds', 1);
const OURS_ONLY = flagArg('ours-only');
const BARE_ONLY = flagArg('bare-only');
/** The whole run is bounded: it aborts with a message after this many minutes. */
const MAX_MINUTES = intArg('max-minutes', 20);
const MAX_HISTORY_EVENTS = 4096;
const MAX_PAYLOAD_KB = 256;
const CANARY = 2;
const WAVES: SecurityPatchingInput['waves'] = [1, '5%', '25%', 'rest'];
const BATCH_SIZE = 200;
const CONCURRENCY = 50;
const OLD = { openssl: '3.0.11', 'linux-image': '6.1.0-25' };
const PATCHES = [
  { package: 'openssl', version: '3.0.15' },
  { package: 'linux-image', version: '6.1.0-28' },
];
const requester = { id: 'tess', displayName: 'Tess Technician' };
const approver: Principal = { id: 'alex', displayName: 'Alex Approver', roles: ['approver'] };

type Kind = 'baseline' | 'ours';
/** The activities that act on a host, by side (the rest is each side's own bookkeeping). */
const HOST_ACTIVITY_TYPES: Record<Kind, string[]> = {
  baseline: ['snapshot', 'patch', 'health'],
  ours: ['snapshotHost', 'patchHost', 'checkHostHealth', 'restoreHostSnapshot'],
};

interface CampaignResult {
  kind: Kind;
  round: number;
  hosts: number;
  seconds: number;
  outcome: string;
  ok: boolean;
  continuedAsNew: number | undefined;
  history: HistoryFigures;
  rss: { startMb: number; peakMb: number };
  ledger: { ok: boolean; detail: string };
  /** CPU ms from the start of the campaign to its end: this process (the workers in it) and the dev server. */
  cpu: { processMs: number; serverMs: number | undefined };
  work: HistoryWork;
  /** The dev server's frontend requests during the campaign, by operation. */
  requests: Record<string, number>;
}

/** What runBaseline and runOurs measure of a campaign; the rest comes from its histories and ledger afterwards. */
type CampaignRun = Pick<CampaignResult, 'seconds' | 'outcome' | 'ok' | 'continuedAsNew' | 'rss' | 'cpu'>;

async function main(): Promise<number> {
  if (HOSTS <= CANARY) throw new Error(`--hosts must be more than the ${CANARY} canary hosts`);
  if (OURS_ONLY && BARE_ONLY) throw new Error('--ours-only and --bare-only exclude each other');
  const report = new BenchReport(OURS_ONLY ? `fleet-rollout-${HOSTS}` : BARE_ONLY ? `fleet-rollout-bare-${HOSTS}` : 'fleet-rollout', {
    hosts: HOSTS,
    rounds: ROUNDS,
    oursOnly: OURS_ONLY,
    ...(BARE_ONLY ? { bareOnly: true } : {}),
  });
  let server: DevServer | undefined;
  abortAfter(MAX_MINUTES, 'fleet-rollout bench', () => server);
  installQuietRuntime();
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'runbooks-bench-fleet-'));
  let connection: Connection | undefined;
  let native: NativeConnection | undefined;
  try {
    console.log(`fleet-rollout bench: ${HOSTS} hosts (${CANARY} canary), waves ${JSON.stringify(WAVES)}, batches of ${BATCH_SIZE},`);
    console.log(`${CONCURRENCY} hosts at once per batch, ${ROUNDS} round(s); ${os.cpus().length} cores, Node ${process.version}`);
    const started = Date.now();
    const [dev, ourBundle, bareBundle] = await Promise.all([
      startBenchServer(),
      bundleRunbookWorkflows().then((b) => writeBundle(b.code, root, 'runbooks')),
      bundleBenchWorkflows('baseline/workflows.ts', root, { bare: true }),
    ]);
    server = dev;
    console.log(
      `dev server at ${server.address} (Temporal's default continue-as-new suggestion), bundles ready in ${fixed((Date.now() - started) / 1000, 1)} s`,
    );
    connection = await Connection.connect({ address: server.address });
    const client = new Client({ connection, namespace: 'default' });
    native = await NativeConnection.connect({ address: server.address });

    const results: CampaignResult[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const order: Kind[] = OURS_ONLY ? ['ours'] : BARE_ONLY ? ['baseline'] : round % 2 === 1 ? ['baseline', 'ours'] : ['ours', 'baseline'];
      for (const kind of order) {
        let lab: LabFleetFixture;
        try {
          lab = await createLabFleet({
            dir: path.join(root, `${kind}-${round}`),
            canary: CANARY,
            production: HOSTS - CANARY,
            packages: OLD,
          });
        } catch (error) {
          // E.g. an inventory limit below the fleet size: this fleet cannot run yet, say why.
          const why = error instanceof Error ? error.message.split('\n')[0] : String(error);
          report.problem(`cannot run ${HOSTS} hosts yet: the lab fleet could not be set up: ${why.slice(0, 300)}`);
          report.goal(`fleet campaign of ${HOSTS} hosts in one run`, 'runs', `cannot run yet: ${why.slice(0, 200)}`, false);
          return report.finish();
        }
        collectGarbage();
        console.log(`round ${round}: ${kind} campaign over ${HOSTS} lab hosts...`);
        const workflowId = `bench-${kind}-${round}-${randomUUID()}`;
        const requestsBefore = await serverRequests(server);
        const run =
          kind === 'baseline'
            ? await runBaseline(client, native, bareBundle, lab, workflowId, server)
            : await runOurs(client, native, ourBundle, lab, root, round, workflowId, server);
        const result: CampaignResult = {
          ...run,
          kind,
          round,
          hosts: HOSTS,
          requests: countsSince(requestsBefore, await serverRequests(server)),
          history: await settledHistories(client, workflowId),
          work: await historyWork(client, workflowId, HOST_ACTIVITY_TYPES[kind]),
          ledger: await checkLedger(lab),
        };
        console.log(
          `  ${result.outcome} in ${fixed(result.seconds, 1)} s; ledger ${result.ledger.ok ? 'OK' : 'FAIL'}: ${result.ledger.detail}`,
        );
        results.push(result);
        await lab.store.close();
      }
    }
    for (const r of results) {
      report.check(r.ok, `round ${r.round} ${r.kind}: did not patch every host: ${r.outcome.slice(0, 300)}`);
      report.check(r.ledger.ok, `round ${r.round} ${r.kind}: ledger ${r.ledger.detail}`);
    }
    summarize(report, results);
    return report.finish();
  } finally {
    await native?.close().catch(() => undefined);
    await connection?.close().catch(() => undefined);
    await stopServer(server);
    await fs.rm(root, { recursive: true, force: true });
  }
}

async function runBaseline(
  client: Client,
  native: NativeConnection,
  bundlePath: string,
  lab: LabFleetFixture,
  workflowId: string,
  server: DevServer,
): Promise<CampaignRun> {
  const taskQueue = `bench-baseline-${randomUUID()}`;
  const rss = new RssSampler();
  const worker = await Worker.create({
    connection: native,
    namespace: 'default',
    taskQueue,
    workflowBundle: { codePath: bundlePath },
    activities: createBareActivities(lab.fleet),
    shutdownGraceTime: 5_000,
  });
  const running = worker.run();
  let outcome = '';
  let ok = false;
  let seconds = 0;
  let memory = { startMb: 0, peakMb: 0 };
  let cpu: CampaignRun['cpu'] = { processMs: 0, serverMs: undefined };
  try {
    const input: BareRolloutInput = {
      canary: lab.canary,
      production: lab.production,
      waves: WAVES,
      batchSize: BATCH_SIZE,
      concurrency: CONCURRENCY,
      patches: PATCHES,
      hostTimeoutSeconds: 600,
    };
    const t0 = performance.now();
    const cpuMeter = new CpuMeter(server);
    const handle = await client.workflow.start('bareFleetRollout', { taskQueue, workflowId, args: [input] });
    const counts = (await handle.result()) as BareCounts;
    seconds = (performance.now() - t0) / 1000;
    cpu = cpuMeter.stop();
    ok = counts.patched === HOSTS && counts.failed === 0;
    outcome = `${counts.patched} patched, ${counts.failed} failed in ${counts.batches} batches`;
  } catch (error) {
    outcome = `FAILED: ${String(error)}`;
  } finally {
    memory = rss.stop();
    worker.shutdown();
    await running;
  }
  return { seconds, outcome, ok, continuedAsNew: undefined, rss: memory, cpu };
}

async function runOurs(
  client: Client,
  native: NativeConnection,
  bundlePath: string,
  lab: LabFleetFixture,
  root: string,
  round: number,
  workflowId: string,
  server: DevServer,
): Promise<CampaignRun> {
  const taskQueue = `bench-ours-${randomUUID()}`;
  const rss = new RssSampler();
  const worker = await createRunbookWorker({
    connection: native,
    namespace: 'default',
    taskQueue,
    workflowBundlePath: bundlePath,
    activities: createActivities({
      store: lab.store,
      reportsDir: path.join(root, `reports-${round}`),
      notifier: new LogNotifier(path.join(root, `notifications-${round}.jsonl`)),
      hosts: lab,
    }),
    shutdownGraceMs: 5_000,
  });
  const running = worker.run();
  let outcome = '';
  let ok = false;
  let seconds = 0;
  let memory = { startMb: 0, peakMb: 0 };
  let continuedAsNew: number | undefined;
  let cpu: CampaignRun['cpu'] = { processMs: 0, serverMs: undefined };
  try {
    const input = securityPatchingInputSchema.parse({
      targets: { tags: ['lab'] },
      patches: PATCHES,
      waves: WAVES,
      concurrency: CONCURRENCY,
      batchSize: BATCH_SIZE,
      bakeSeconds: 0,
      failureThreshold: { percent: 10 },
      ticket: 'BENCH-1',
    });
    const args: RunbookStartArgs<SecurityPatchingInput> = { input, requestedBy: requester };
    const t0 = performance.now();
    const cpuMeter = new CpuMeter(server);
    const handle = await client.workflow.start('securityPatching', {
      taskQueue,
      workflowId,
      args: [args],
      // As the API starts a run.
      typedSearchAttributes: [
        { key: RunbookNameAttr, value: securityPatchingRunbook.name },
        { key: RequestedByAttr, value: requester.id },
        { key: RunStatusAttr, value: 'running' },
      ],
    });
    // The approver decides as soon as the production gate opens. The run's AwaitingApproval search
    // attribute (read by describe, from the server) tells when, without asking the worker for the
    // run's whole state (a query answers ~0.5 MB for 10,000 hosts) several times a second.
    const approved = (async (): Promise<string | undefined> => {
      for (;;) {
        const d = await handle.describe();
        if (d.typedSearchAttributes.get(AwaitingApprovalAttr) === true) break;
        if (d.status.name !== 'RUNNING') return `gate never opened (run ${d.status.name})`;
        await sleep(100);
      }
      await handle.executeUpdate(decideApprovalUpdate, {
        args: [{ gateId: 'approve-production', decision: 'approve', comment: 'canary clean (bench)', principal: approver }],
      });
      return undefined;
    })().catch((error: unknown) => `approval failed: ${String(error)}`);
    let state: RunState;
    try {
      state = (await handle.result()) as RunState;
    } catch (error) {
      if (!(error instanceof WorkflowFailedError)) throw error;
      state = await handle.query(runStateQuery);
      outcome = `FAILED: ${state.error ?? String(error)}; `;
    }
    seconds = (performance.now() - t0) / 1000;
    cpu = cpuMeter.stop();
    const approvalProblem = await approved;
    if (approvalProblem) outcome += `${approvalProblem}; `;
    continuedAsNew = state.continuedAsNew ?? 0;
    const patched = state.rollout ? rolloutCounts(state.rollout).patched : 0;
    ok = state.status === 'succeeded' && patched === HOSTS;
    outcome += `${state.status}: ${patched} patched; steps: ${state.steps.map((s) => `${s.id} ${s.state} ${stepSeconds(s)}`).join(', ')}`;
  } catch (error) {
    outcome = `FAILED: ${String(error)}`;
  } finally {
    memory = rss.stop();
    worker.shutdown();
    await running;
  }
  return { seconds, outcome, ok, continuedAsNew, rss: memory, cpu };
}

/** Visibility is written asynchronously: list until the count stops changing. */
async function settledHistories(client: Client, workflowId: string): Promise<HistoryFigures> {
  let last = await historiesByPrefix(client, workflowId, workflowId);
  for (let i = 0; i < 10; i++) {
    await sleep(500);
    const now = await historiesByPrefix(client, workflowId, workflowId);
    if (now.executions === last.executions && now.largestEvents === last.largestEvents) return now;
    last = now;
  }
  return last;
}

/** The ledger must hold exactly one patch for every host of the fleet, and none for any other host. */
async function checkLedger(lab: LabFleetFixture): Promise<{ ok: boolean; detail: string }> {
  const ledger: LedgerEntry[] = await lab.fleet.ledger();
  const patches = new Map<string, number>();
  for (const e of ledger) if (e.op === 'patch') patches.set(e.host, (patches.get(e.host) ?? 0) + 1);
  const all = [...lab.canary, ...lab.production];
  const missing = all.filter((h) => !patches.has(h));
  const twice = [...patches].filter(([, n]) => n !== 1).map(([h]) => h);
  const strangers = [...patches.keys()].filter((h) => !all.includes(h));
  const ok = missing.length === 0 && twice.length === 0 && strangers.length === 0;
  const detail = ok
    ? `${patches.size} hosts patched once each (${ledger.length} ledger lines)`
    : `${missing.length} never patched (${missing.slice(0, 3).join(', ')}), ${twice.length} patched more than once, ${strangers.length} unknown`;
  return { ok, detail };
}

function summarize(report: BenchReport, results: CampaignResult[]): void {
  report.table(
    `${HOSTS} lab hosts (${CANARY} canary), waves ${JSON.stringify(WAVES)}, batches of ${BATCH_SIZE}, ${CONCURRENCY} hosts at once per batch; ` +
      'RSS of the bench process (workers in it), sampled every 200 ms; largest payload: the most payload bytes one history event carries',
    [
      'campaign',
      'round',
      'seconds',
      'hosts/s',
      'workflows',
      'largest history (events)',
      'parent history (events / KB)',
      'largest child (events / KB)',
      'largest payload KB',
      'continued as new',
      'RSS start MB',
      'RSS peak MB',
    ],
    results.map((r) => [
      r.kind,
      r.round,
      fixed(r.seconds, 1),
      fixed(r.hosts / r.seconds, 1),
      r.history.executions,
      `${r.history.largestEvents} (${shortId(r.history.largestId)})`,
      `${r.history.topEvents} / ${fixed(r.history.topBytes / 1024, 0)}`,
      `${r.history.childEvents} / ${fixed(r.history.childBytes / 1024, 0)}`,
      `${fixed(r.work.largestPayload.bytes / 1024, 0)} (${r.work.largestPayload.where})`,
      r.continuedAsNew === undefined ? '-' : `${r.continuedAsNew} (${r.history.topRuns} runs)`,
      fixed(r.rss.startMb, 0),
      fixed(r.rss.peakMb, 0),
    ]),
  );
  report.table(
    'work per host: CPU ms of the bench process (the workers: every thread) and of the dev server from the start of the campaign to its end; ' +
      'over every history of the campaign, events, workflow tasks completed, activities scheduled and payload bytes; the dev server’s frontend ' +
      'requests (the workers’ polls included) and among them activity heartbeats',
    [
      'campaign',
      'round',
      'bench CPU ms',
      'server CPU ms',
      'events',
      'workflow tasks',
      'activities',
      'payload bytes',
      'server requests',
      'heartbeats',
    ],
    results.map((r) => {
      const perHost = (n: number | undefined, digits = 2) => (n === undefined ? '-' : fixed(n / r.hosts, digits));
      return [
        r.kind,
        r.round,
        perHost(r.cpu.processMs),
        perHost(r.cpu.serverMs),
        perHost(r.work.events),
        perHost(r.work.byType.workflowTaskCompleted ?? 0),
        perHost(r.work.byType.activityTaskScheduled ?? 0),
        perHost(r.work.payloadBytes, 0),
        perHost(Object.values(r.requests).reduce((a, b) => a + b, 0)),
        perHost(r.requests.RecordActivityTaskHeartbeat ?? 0),
      ];
    }),
  );
  const mean = (total: number, n: number | undefined) => (n ? fixed(total / n, 1) : '-');
  report.table(
    'where the time of an activity and of a workflow task goes, mean ms over the campaign (server event times): waiting in the task queue ' +
      '(scheduled → started) and running (started → closed); between batches: time no host action ran, summed over the gaps from a batch’s ' +
      'last host action done to the next one’s first scheduled',
    ['campaign', 'round', 'activity queued', 'activity running', 'workflow task queued', 'workflow task running', 'between batches s'],
    results.map((r) => [
      r.kind,
      r.round,
      mean(r.work.ms.activityQueue, r.work.byType.activityTaskStarted),
      mean(r.work.ms.activityRun, r.work.byType.activityTaskCompleted),
      mean(r.work.ms.workflowTaskQueue, r.work.byType.workflowTaskStarted),
      mean(r.work.ms.workflowTaskRun, r.work.byType.workflowTaskCompleted),
      fixed(r.work.idleBetweenMs / 1000, 1),
    ]),
  );
  if (BARE_ONLY) return;
  const ours = results.filter((r) => r.kind === 'ours');
  const maxEvents = Math.max(...ours.map((r) => r.history.largestEvents));
  const maxPayloadKb = Math.max(...ours.map((r) => r.work.largestPayload.bytes / 1024));
  report.goal(
    `fleet campaign of ${HOSTS} hosts: largest history and payload of any of our workflows`,
    `≤ ${MAX_HISTORY_EVENTS} events, ≤ ${MAX_PAYLOAD_KB} KB`,
    `${maxEvents} events, ${fixed(maxPayloadKb, 0)} KB`,
    ours.every((r) => r.ok) && maxEvents <= MAX_HISTORY_EVENTS && maxPayloadKb <= MAX_PAYLOAD_KB,
  );
  if (OURS_ONLY) return;
  const perRound = (f: (r: CampaignResult) => number) =>
    Array.from({ length: ROUNDS }, (_, i) => {
      const of = (kind: Kind) => results.find((r) => r.round === i + 1 && r.kind === kind);
      const [o, b] = [of('ours'), of('baseline')];
      return o && b ? f(o) / f(b) : NaN;
    }).filter(Number.isFinite);
  const throughput = perRound((r) => r.hosts / r.seconds);
  report.table(
    'ratio ours/baseline, median (min–max) over the rounds',
    ['figure', 'ratio'],
    [
      ['throughput (hosts/s)', spread(throughput)],
      ['RSS peak', spread(perRound((r) => r.rss.peakMb))],
      ['largest history (events)', spread(perRound((r) => r.history.largestEvents))],
      ['parent history (bytes)', spread(perRound((r) => r.history.topBytes))],
      ['largest payload (bytes)', spread(perRound((r) => r.work.largestPayload.bytes))],
      ['bench CPU per host', spread(perRound((r) => r.cpu.processMs))],
      ['server CPU per host', spread(perRound((r) => r.cpu.serverMs ?? NaN))],
      ['history events per host', spread(perRound((r) => r.work.events))],
      ['workflow tasks per host', spread(perRound((r) => r.work.byType.workflowTaskCompleted ?? 0))],
      ['server requests per host', spread(perRound((r) => Object.values(r.requests).reduce((a, b) => a + b, 0)))],
    ],
  );
  const t = [...throughput].sort((a, b) => a - b)[Math.floor((throughput.length - 1) / 2)];
  report.goal(`fleet campaign of ${HOSTS} hosts vs the bare two-level fan-out`, '≥ 0.9 throughput', fixed(t), t >= 0.9);
}

/** A step's duration in workflow time, e.g. "12.3 s". */
function stepSeconds(step: { startedAt?: string; endedAt?: string }): string {
  if (!step.startedAt || !step.endedAt) return '';
  return `${fixed((Date.parse(step.endedAt) - Date.parse(step.startedAt)) / 1000, 1)} s`;
}

function shortId(id: string): string {
  const slash = id.indexOf('/');
  return slash < 0 ? 'parent' : id.slice(slash + 1);
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('fleet-rollout bench failed:', error);
    process.exit(1);
  },
);
