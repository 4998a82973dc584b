/**
 * Approval-latency bench: from the moment an approver decides to the moment the run's next
 * activity is scheduled. Ours: `POST /v1/runs/{id}/approvals/{gate}` on the real API, to a run of
 * the engine parked at its approval gate (the real worker, the real bundle), whose next step is a
 * no-op activity. Bare: `executeUpdate` of a plain Update on a workflow waiting for it, whose next
 * command is the same no-op activity. Latency = the ActivityTaskScheduled event's time (server
 * clock, same machine, to the microsecond) minus the wall time just before the call (wallMs, to the microsecond
 * too); also the call's own round trip.
 * Rounds alternate which side goes first; each round parks N runs of each side, then decides
 * them one after another, each once the run decided before it has ended. Ours runs with signed caller assertions (RUNBOOKS_ASSERTION_KEYS on the
 * API and the worker), as a deployment does: the API signs each decision, the gate's validator
 * verifies it. The bare workflow's bundle holds the SDK alone (no runbook interceptors).
 * A third side, a diagnostic outside the goal: our engine alone, its run decided by the bench's
 * own `executeUpdate` with the arguments the API would send (signed the same way), so the figure
 * splits into what the engine costs and what the HTTP hop through the API adds. A fourth, also
 * outside the goal: the HTTP floor, the bare Update sent by a plain HTTP server in a process of its
 * own (http-floor-process.ts), what any HTTP front of Temporal pays for the hop alone here.
 *
 *   node bench/dist/approval-latency.js [--rounds 3] [--approvals 20] [--smoke] [--max-minutes 20] [--api-in-process] [--out file.json]
 */
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import {
  RequestedByAttr,
  RunStatusAttr,
  RunbookNameAttr,
  decideApprovalUpdate,
  parseAssertionKeys,
  signAssertion,
  type Principal,
  type RunbookStartArgs,
} from '@runbooks/contracts';
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { bareApproveUpdate } from './baseline/plain-workflows';
import {
  abortAfter,
  bundleBenchWorkflows,
  eventMs,
  fixed,
  flagArg,
  installQuietRuntime,
  intArg,
  percentile,
  sleep,
  spread,
  startBenchServer,
  stopServer,
  waitUntilParked,
  wallMs,
} from './common';
import type { DevServer } from './harness/dev-server';
import { BENCH_GATE } from './overhead/gate';
import { BenchReport } from './results';
import {
  DEMO_TOKENS,
  startBenchApi,
  startBenchApiProcess,
  startBareWorker,
  startHttpFloorProcess,
  startOurWorker,
  timedFetch,
} from './service';

const SMOKE = flagArg('smoke');
const ROUNDS = intArg('rounds', SMOKE ? 1 : 3);
const APPROVALS = intArg('approvals', SMOKE ? 3 : 20);
/** How long the API and the plain HTTP server sit idle, after the warm-up, while their CPU is read. */
const IDLE_MS = SMOKE ? 1_000 : 5_000;
const MAX_MINUTES = intArg('max-minutes', 20);
/** Serve the API from the bench's own process, as the bench did before it had one of its own. */
const API_IN_PROCESS = flagArg('api-in-process');

type Kind = 'ours' | 'engine' | 'bare' | 'floor';
const KINDS: readonly Kind[] = ['ours', 'engine', 'bare', 'floor'];
/** The demo approver, as the API passes a principal to the run (principalArg). */
const APPROVER: Principal = { id: 'alex', displayName: 'Alex Approver', roles: ['approver'] };
interface Sample {
  /** Call start → next activity scheduled (ms). */
  scheduledMs: number;
  /** The approve call's own round trip (ms). */
  callMs: number;
  /** Where the time went, from the history: call start → the workflow task carrying the update scheduled, → started, → completed (ms). */
  split: { toTaskScheduled: number; taskQueued: number; taskRan: number };
}

async function main(): Promise<number> {
  let server: DevServer | undefined;
  abortAfter(MAX_MINUTES, 'approval-latency bench', () => server);
  installQuietRuntime();
  const report = new BenchReport('approval-latency', { rounds: ROUNDS, approvalsPerRound: APPROVALS });
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'runbooks-bench-approval-'));
  let connection: Connection | undefined;
  let native: NativeConnection | undefined;
  const stops: (() => Promise<void>)[] = [];
  try {
    console.log(
      `approval-latency bench: ${ROUNDS} round(s) of ${APPROVALS} approvals each side; ${os.cpus().length} cores, Node ${process.version}`,
    );
    const [dev, ourBundle, bareBundle] = await Promise.all([
      startBenchServer(),
      bundleBenchWorkflows('overhead/workflows.ts', root),
      bundleBenchWorkflows('baseline/plain-workflows.ts', root, { bare: true }),
    ]);
    server = dev;
    connection = await Connection.connect({ address: server.address });
    const client = new Client({ connection, namespace: 'default' });
    native = await NativeConnection.connect({ address: server.address });
    const oursQueue = `bench-ours-${randomUUID()}`;
    const bareQueue = `bench-bare-${randomUUID()}`;
    const queues: Record<Kind, string> = { ours: oursQueue, engine: oursQueue, bare: bareQueue, floor: bareQueue };
    const assertionKeys = `bench:${randomBytes(32).toString('base64')}`;
    const [signingKey] = parseAssertionKeys(assertionKeys);
    const ours = await startOurWorker({
      native,
      taskQueue: queues.ours,
      bundlePath: ourBundle,
      dir: path.join(root, 'ours'),
      assertionKeys,
    });
    stops.push(ours.stop);
    stops.push((await startBareWorker({ native, taskQueue: queues.bare, bundlePath: bareBundle })).stop);
    const api = await (API_IN_PROCESS ? startBenchApi : startBenchApiProcess)({
      temporalAddress: server.address,
      taskQueue: queues.ours,
      dir: path.join(root, 'api'),
      store: ours.lab.storeLocation,
      assertionKeys,
    });
    stops.unshift(api.close);
    const floor = await startHttpFloorProcess({ temporalAddress: server.address });
    stops.unshift(floor.close);

    const park = async (kind: Kind, count = APPROVALS): Promise<WorkflowHandle[]> => {
      const handles: WorkflowHandle[] = [];
      for (let i = 0; i < count; i++) {
        const workflowId = `bench-approval-${kind}-${randomUUID()}`;
        handles.push(
          kind === 'ours' || kind === 'engine'
            ? await client.workflow.start('engineApprovalThenNoop', {
                taskQueue: queues[kind],
                workflowId,
                args: [{ input: {}, requestedBy: { id: 'tess', displayName: 'Tess Technician' } } satisfies RunbookStartArgs],
                typedSearchAttributes: [
                  { key: RunbookNameAttr, value: 'bench-approval' },
                  { key: RequestedByAttr, value: 'tess' },
                  { key: RunStatusAttr, value: 'running' },
                ],
              })
            : await client.workflow.start('bareApprovalThenNoop', { taskQueue: queues[kind], workflowId, args: [] }),
        );
      }
      await waitUntilParked(
        client,
        handles.map((h) => h.workflowId),
        32,
      );
      return handles;
    };

    const decide = async (kind: Kind, handle: WorkflowHandle): Promise<Sample> => {
      const t0 = wallMs();
      const c0 = performance.now();
      if (kind === 'ours') {
        const res = await timedFetch(`${api.url}/v1/runs/${encodeURIComponent(handle.workflowId)}/approvals/${BENCH_GATE}`, {
          method: 'POST',
          token: DEMO_TOKENS.approver,
          body: { decision: 'approve', comment: 'bench' },
        });
        if (res.status !== 200) throw new Error(`approve ${handle.workflowId}: HTTP ${res.status} ${res.body.slice(0, 200)}`);
      } else if (kind === 'engine') {
        // What the API sends for this decision (RunsService.decide, CallerAssertions.args), signed with the same key.
        const sent = { gateId: BENCH_GATE, decision: 'approve' as const, comment: 'bench', principal: APPROVER };
        await handle.executeUpdate(decideApprovalUpdate, {
          args: [{ ...sent, assertion: signAssertion(signingKey, decideApprovalUpdate.name, APPROVER, sent, new Date()) }],
        });
      } else if (kind === 'floor') {
        const res = await timedFetch(`${floor.url}/update`, { method: 'POST', body: { workflowId: handle.workflowId, by: 'alex' } });
        if (res.status !== 200) throw new Error(`floor update ${handle.workflowId}: HTTP ${res.status} ${res.body.slice(0, 200)}`);
      } else {
        await handle.executeUpdate(bareApproveUpdate, { args: [{ by: 'alex' }] });
      }
      const callMs = performance.now() - c0;
      const { scheduledAt, split } = await noopScheduledAt(handle, t0);
      return { scheduledMs: scheduledAt - t0, callMs, split };
    };

    // CPU rather than wall time, so it holds on a busy machine: the API process does nothing else while the approvals go.
    const apiCpuMs = async () => ('cpuMs' in api ? await api.cpuMs() : undefined);
    // Warm-up, not measured: the API's lazy Temporal connection, its first requests' JIT, the first update on each side.
    for (const kind of ['bare', 'floor', 'engine', 'ours'] as const) for (const handle of await park(kind, 2)) await decide(kind, handle);
    // Idle upkeep: what each server process spends with no request at all (timers, the metrics' sampling).
    const idleBefore = { api: await apiCpuMs(), floor: await floor.cpuMs() };
    await sleep(IDLE_MS);
    const idleApi = idleBefore.api === undefined ? undefined : (((await apiCpuMs()) as number) - idleBefore.api) / (IDLE_MS / 1000);
    const idleFloor = ((await floor.cpuMs()) - idleBefore.floor) / (IDLE_MS / 1000);
    const samples: Record<Kind, Sample[]> = { ours: [], engine: [], bare: [], floor: [] };
    const roundRatios: { p50: number[]; p95: number[] } = { p50: [], p95: [] };
    const engineRatios: { p50: number[]; p95: number[] } = { p50: [], p95: [] };
    const floorRatios: { p50: number[]; p95: number[] } = { p50: [], p95: [] };
    const apiCpuPerApproval: number[] = [];
    const floorCpuPerApproval: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const parked = { ours: await park('ours'), engine: await park('engine'), bare: await park('bare'), floor: await park('floor') };
      const inRound: Record<Kind, Sample[]> = { ours: [], engine: [], bare: [], floor: [] };
      const cpuBefore = await apiCpuMs();
      const floorCpuBefore = await floor.cpuMs();
      for (let i = 0; i < APPROVALS; i++) {
        // Decide one of each, the side that goes first turning with each approval and each round.
        for (let k = 0; k < KINDS.length; k++) {
          const kind = KINDS[(i + round + k) % KINDS.length];
          inRound[kind].push(await decide(kind, parked[kind][i]));
          // The run ends (its no-op step, its last task, its status copy) before the next decision: the
          // next side, whichever it is, does not share the cores with this one's tail.
          await parked[kind][i].result().catch(() => undefined);
        }
      }
      const cpuAfter = await apiCpuMs();
      floorCpuPerApproval.push(((await floor.cpuMs()) - floorCpuBefore) / APPROVALS);
      if (cpuBefore !== undefined && cpuAfter !== undefined) apiCpuPerApproval.push((cpuAfter - cpuBefore) / APPROVALS);
      const ended = await Promise.all(
        [...parked.ours, ...parked.engine, ...parked.bare, ...parked.floor].map((h) =>
          h.result().then(
            () => true,
            () => false,
          ),
        ),
      );
      report.check(ended.every(Boolean), `round ${round}: ${ended.filter((e) => !e).length} runs did not complete after their approval`);
      const q = (kind: Kind, p: number) =>
        percentile(
          inRound[kind].map((s) => s.scheduledMs),
          p,
        );
      roundRatios.p50.push(q('ours', 50) / q('bare', 50));
      roundRatios.p95.push(q('ours', 95) / q('bare', 95));
      engineRatios.p50.push(q('engine', 50) / q('bare', 50));
      engineRatios.p95.push(q('engine', 95) / q('bare', 95));
      floorRatios.p50.push(q('floor', 50) / q('bare', 50));
      floorRatios.p95.push(q('floor', 95) / q('bare', 95));
      for (const kind of KINDS) samples[kind].push(...inRound[kind]);
      console.log(
        `  round ${round}: ours p50 ${fixed(q('ours', 50), 1)} ms, engine alone ${fixed(q('engine', 50), 1)} ms, ` +
          `bare ${fixed(q('bare', 50), 1)} ms, HTTP floor ${fixed(q('floor', 50), 1)} ms`,
      );
    }
    report.check(
      KINDS.every((kind) => samples[kind].length === ROUNDS * APPROVALS),
      `expected ${ROUNDS * APPROVALS} approvals each side, got ${KINDS.map((kind) => `${kind} ${samples[kind].length}`).join(', ')}`,
    );
    const q = (kind: Kind, f: (s: Sample) => number, p: number) => percentile(samples[kind].map(f), p);
    const scheduled = (s: Sample) => s.scheduledMs;
    const call = (s: Sample) => s.callMs;
    /** A side's figure against bare's: p50 and p95 of each, then their ratios (the per-round ones when given). */
    const row = (figure: string, kind: Kind, f: (s: Sample) => number, perRound?: { p50: number[]; p95: number[] }) => [
      figure,
      fixed(q(kind, f, 50), 1),
      fixed(q(kind, f, 95), 1),
      fixed(q('bare', f, 50), 1),
      fixed(q('bare', f, 95), 1),
      perRound ? spread(perRound.p50) : fixed(q(kind, f, 50) / q('bare', f, 50)),
      perRound ? spread(perRound.p95) : fixed(q(kind, f, 95) / q('bare', f, 95)),
    ];
    report.table(
      `${ROUNDS} round(s) × ${APPROVALS} approvals each side, one after another, the side going first turning. Decide → next activity scheduled ` +
        '(ActivityTaskScheduled event time minus the time before the call) and the call round trip, ms over all rounds; ' +
        'ratio: median (min–max) of the per-round ratios',
      ['figure', 'ours p50', 'ours p95', 'bare p50', 'bare p95', 'ratio p50', 'ratio p95'],
      [
        row('decide → next activity scheduled', 'ours', scheduled, roundRatios),
        row('  of which: call → its workflow task scheduled (API, server)', 'ours', (s) => s.split.toTaskScheduled),
        row('  of which: task scheduled → started (worker poll)', 'ours', (s) => s.split.taskQueued),
        row('  of which: task started → completed (worker)', 'ours', (s) => s.split.taskRan),
        row('approve call round trip (HTTP vs executeUpdate)', 'ours', call),
        // The diagnostic side in the "ours" columns: the engine without the HTTP hop.
        row("our engine alone (the bench sends the API's signed Update) → next activity scheduled", 'engine', scheduled, engineRatios),
        row('  of which: call → its workflow task scheduled (server)', 'engine', (s) => s.split.toTaskScheduled),
        row('  of which: task started → completed (worker)', 'engine', (s) => s.split.taskRan),
        // The other diagnostic side: bare behind a plain HTTP server.
        row('HTTP floor (a plain HTTP server sends the bare Update) → next activity scheduled', 'floor', scheduled, floorRatios),
        row('  of which: call → its workflow task scheduled (HTTP hop, server)', 'floor', (s) => s.split.toTaskScheduled),
      ],
    );
    const hop =
      `The HTTP hop (ours minus our engine alone, decide → next activity scheduled): p50 ${fixed(q('ours', scheduled, 50) - q('engine', scheduled, 50), 1)} ms ` +
      `of ours' ${fixed(q('ours', scheduled, 50), 1)} ms; a plain HTTP server's hop (HTTP floor minus bare) ${fixed(q('floor', scheduled, 50) - q('bare', scheduled, 50), 1)} ms; ` +
      `the goal's 1.2x leaves ${fixed(0.2 * q('bare', scheduled, 50), 1)} ms over bare for everything.`;
    report.note(hop);
    console.log(hop);
    if (apiCpuPerApproval.length > 0) {
      const text =
        `The API process's CPU per approval (all of its work for one approve call, and its idle upkeep over the round): ${spread(apiCpuPerApproval, 2)} ms; ` +
        `the plain HTTP server's, the same way: ${spread(floorCpuPerApproval, 2)} ms; median (min–max) of the rounds. ` +
        `Idle for ${IDLE_MS / 1000} s after the warm-up, the API process spent ${fixed(idleApi ?? NaN, 2)} ms of CPU a second, ` +
        `the plain HTTP server ${fixed(idleFloor, 2)} ms.`;
      report.note(text);
      console.log(text);
    }
    const p50 = percentile(roundRatios.p50, 50);
    const p95 = percentile(roundRatios.p95, 50);
    report.goal(
      'approval latency: approve (HTTP) → next activity scheduled vs bare Update',
      '≤ 1.2 at p50 and p95',
      `p50 ${fixed(p50)}, p95 ${fixed(p95)}`,
      p50 <= 1.2 && p95 <= 1.2,
    );
    return report.finish();
  } finally {
    for (const stop of stops) await stop().catch(() => undefined);
    await native?.close().catch(() => undefined);
    await connection?.close().catch(() => undefined);
    await stopServer(server);
    await fs.rm(root, { recursive: true, force: true });
  }
}

/**
 * When the no-op activity after the approval was scheduled (server time, ms), and the first
 * workflow task after the call (the one the update arrived with): when it was scheduled, started
 * and completed. Waits for the activity.
 */
async function noopScheduledAt(handle: WorkflowHandle, callStart: number): Promise<{ scheduledAt: number; split: Sample['split'] }> {
  for (let i = 0; i < 600; i++) {
    const events = (await handle.fetchHistory()).events ?? [];
    const scheduled = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'noop');
    if (scheduled) {
      const from = events.findIndex((e) => e.workflowTaskScheduledEventAttributes && eventMs(e) >= callStart);
      const at = (index: number, has: (e: (typeof events)[number]) => unknown) => {
        const e = events.slice(index).find(has);
        return e ? eventMs(e) : NaN;
      };
      const taskScheduled = from >= 0 ? eventMs(events[from]) : NaN;
      const taskStarted = at(from, (e) => e.workflowTaskStartedEventAttributes);
      const taskCompleted = at(from, (e) => e.workflowTaskCompletedEventAttributes);
      return {
        scheduledAt: eventMs(scheduled),
        split: {
          toTaskScheduled: taskScheduled - callStart,
          taskQueued: taskStarted - taskScheduled,
          taskRan: taskCompleted - taskStarted,
        },
      };
    }
    await sleep(50);
  }
  throw new Error(`${handle.workflowId}: no-op activity not scheduled 30 s after the approval`);
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('approval-latency bench failed:', error);
    process.exit(1);
  },
);
