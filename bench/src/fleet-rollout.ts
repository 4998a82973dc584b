/**
 * Fleet rollout bench: our securityPatching campaign over a lab fleet of N hosts against the same
 * fan-out written as bare Temporal code (bench/src/baseline), in one process run, on one dev server
 * with Temporal's default continue-as-new suggestion. Prints throughput, largest history,
 * continue-as-new count and RSS high-water mark for each, as ratios ours/baseline, and checks that
 * every host was patched exactly once in each campaign's ledger.
 *
 *   node bench/dist/fleet-rollout.js [--hosts 10000] [--rounds 1] [--max-minutes 20]
 */
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import {
  AwaitingApprovalAttr,
  RequestedByAttr,
  RunStatusAttr,
  RunbookNameAttr,
  decideApprovalUpdate,
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
  bundleBenchWorkflows,
  collectGarbage,
  fixed,
  historiesByPrefix,
  installQuietRuntime,
  intArg,
  sleep,
  startBenchServer,
  stopServer,
  table,
  writeBundle,
  type HistoryFigures,
} from './common';
import type { DevServer } from './harness/dev-server';

const HOSTS = intArg('hosts', 10_000);
const ROUNDS = intArg('rounds', 1);
/** The whole run is bounded: it aborts with a message after this many minutes. */
const MAX_MINUTES = intArg('max-minutes', 20);
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
}

async function main(): Promise<number> {
  if (HOSTS <= CANARY) throw new Error(`--hosts must be more than the ${CANARY} canary hosts`);
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
      bundleBenchWorkflows('baseline/workflows.ts', root),
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
      const order: Kind[] = round % 2 === 1 ? ['baseline', 'ours'] : ['ours', 'baseline'];
      for (const kind of order) {
        const lab = await createLabFleet({
          dir: path.join(root, `${kind}-${round}`),
          canary: CANARY,
          production: HOSTS - CANARY,
          packages: OLD,
        });
        collectGarbage();
        console.log(`round ${round}: ${kind} campaign over ${HOSTS} lab hosts...`);
        const result =
          kind === 'baseline'
            ? await runBaseline(client, native, bareBundle, lab, round)
            : await runOurs(client, native, ourBundle, lab, root, round);
        console.log(
          `  ${result.outcome} in ${fixed(result.seconds, 1)} s; ledger ${result.ledger.ok ? 'OK' : 'FAIL'}: ${result.ledger.detail}`,
        );
        results.push(result);
        await lab.store.close();
      }
    }
    report(results);
    const ok = results.every((r) => r.ok && r.ledger.ok);
    console.log(`\ncorrectness (ledger: exactly one patch per host, campaign succeeded): ${ok ? 'OK' : 'FAIL'}`);
    return ok ? 0 : 1;
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
  round: number,
): Promise<CampaignResult> {
  const taskQueue = `bench-baseline-${randomUUID()}`;
  const workflowId = `bench-baseline-${round}-${randomUUID()}`;
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
    const handle = await client.workflow.start('bareFleetRollout', { taskQueue, workflowId, args: [input] });
    const counts = (await handle.result()) as BareCounts;
    seconds = (performance.now() - t0) / 1000;
    ok = counts.patched === HOSTS && counts.failed === 0;
    outcome = `${counts.patched} patched, ${counts.failed} failed in ${counts.batches} batches`;
  } catch (error) {
    outcome = `FAILED: ${String(error)}`;
  } finally {
    memory = rss.stop();
    worker.shutdown();
    await running;
  }
  return {
    kind: 'baseline',
    round,
    hosts: HOSTS,
    seconds,
    outcome,
    ok,
    continuedAsNew: undefined,
    history: await settledHistories(client, workflowId),
    rss: memory,
    ledger: await checkLedger(lab),
  };
}

async function runOurs(
  client: Client,
  native: NativeConnection,
  bundlePath: string,
  lab: LabFleetFixture,
  root: string,
  round: number,
): Promise<CampaignResult> {
  const taskQueue = `bench-ours-${randomUUID()}`;
  const workflowId = `bench-ours-${round}-${randomUUID()}`;
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
    const approvalProblem = await approved;
    if (approvalProblem) outcome += `${approvalProblem}; `;
    continuedAsNew = state.continuedAsNew ?? 0;
    const patched = state.rollout?.hosts.filter((h) => h.state === 'patched').length ?? 0;
    ok = state.status === 'succeeded' && patched === HOSTS;
    outcome += `${state.status}: ${patched} patched; steps: ${state.steps.map((s) => `${s.id} ${s.state} ${stepSeconds(s)}`).join(', ')}`;
  } catch (error) {
    outcome = `FAILED: ${String(error)}`;
  } finally {
    memory = rss.stop();
    worker.shutdown();
    await running;
  }
  return {
    kind: 'ours',
    round,
    hosts: HOSTS,
    seconds,
    outcome,
    ok,
    continuedAsNew,
    history: await settledHistories(client, workflowId),
    rss: memory,
    ledger: await checkLedger(lab),
  };
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

function report(results: CampaignResult[]): void {
  console.log('\nresults');
  console.log(
    table(
      [
        'campaign',
        'round',
        'hosts',
        'seconds',
        'hosts/s',
        'workflows',
        'largest history (events)',
        'parent history (events / KB)',
        'largest child (events / KB)',
        'parent continued as new',
        'RSS start MB',
        'RSS peak MB',
      ],
      results.map((r) => [
        r.kind,
        r.round,
        r.hosts,
        fixed(r.seconds, 1),
        fixed(r.hosts / r.seconds, 1),
        r.history.executions,
        `${r.history.largestEvents} (${shortId(r.history.largestId)})`,
        `${r.history.topEvents} / ${fixed(r.history.topBytes / 1024, 0)}`,
        `${r.history.childEvents} / ${fixed(r.history.childBytes / 1024, 0)}`,
        r.continuedAsNew === undefined ? '-' : `${r.continuedAsNew} (${r.history.topRuns} runs)`,
        fixed(r.rss.startMb, 0),
        fixed(r.rss.peakMb, 0),
      ]),
    ),
  );
  const mean = (kind: Kind, f: (r: CampaignResult) => number) => {
    const rs = results.filter((r) => r.kind === kind);
    return rs.reduce((sum, r) => sum + f(r), 0) / rs.length;
  };
  const throughput = (r: CampaignResult) => r.hosts / r.seconds;
  console.log(
    `\nratio ours/baseline: throughput ${fixed(mean('ours', throughput) / mean('baseline', throughput))} ` +
      `(ours ${fixed(mean('ours', throughput), 1)} vs ${fixed(mean('baseline', throughput), 1)} hosts/s), ` +
      `RSS peak ${fixed(mean('ours', (r) => r.rss.peakMb) / mean('baseline', (r) => r.rss.peakMb))}, ` +
      `RSS growth over the phase ${fixed(mean('ours', (r) => r.rss.peakMb - r.rss.startMb) / mean('baseline', (r) => r.rss.peakMb - r.rss.startMb))}, ` +
      `largest history (events) ${fixed(mean('ours', (r) => r.history.largestEvents) / mean('baseline', (r) => r.history.largestEvents))}, ` +
      `parent history bytes ${fixed(mean('ours', (r) => r.history.topBytes) / mean('baseline', (r) => r.history.topBytes))}`,
  );
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
