import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { RunbookMetrics, serveMetrics, startTracing, type Tracing } from '@runbooks/activities';
import { RunStatusAttr, RunbookNameAttr, type RunState } from '@runbooks/contracts';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { freePort } from '../harness/dev-server';
import { Worker } from '@temporalio/worker';
import { workerSinks } from '@runbooks/worker';
import { recordHistoryIfAsked } from '../harness/recorded-histories';
import { eventually, testPayloadCodec } from '../harness/worker';
import { killHard, spawnWorkerProcess } from '../harness/worker-process';
import { auth } from '../api/app';
import { startRestoreEnvironment, type RestoreEnvironment } from '../api/restore-environment';

/** The value of one sample of a Prometheus exposition, by name and exact labels (0 when absent). */
function sample(text: string, name: string, labels: Record<string, string>): number {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    const match = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/);
    if (!match || match[1] !== name) continue;
    const have = (match[2] ?? '').split(',').filter(Boolean);
    if (wanted.every((w) => have.includes(w))) return Number(match[3]);
  }
  return 0;
}

describe('metrics and traces of a real run: launched, approved and ended through the API', () => {
  const exporter = new InMemorySpanExporter();
  let tracing: Tracing;
  const workerMetrics = new RunbookMetrics({ processMetrics: false });
  let env: RestoreEnvironment;
  let workerScrape: { port: number; close(): Promise<void> };
  let runId: string;
  let waitingAtGate: { count: number; text: string };

  beforeAll(async () => {
    tracing = startTracing('runbooks-test', new SimpleSpanProcessor(exporter));
    env = await startRestoreEnvironment({ worker: { observability: { metrics: workerMetrics, tracing } } });
    workerScrape = await serveMetrics(workerMetrics, { host: '127.0.0.1', port: 0 });
    runId = await env.launchToApproval('tess');
    waitingAtGate = await eventually(
      async () => {
        const text = (await request(env.api.server).get('/metrics').expect(200)).text;
        const count = sample(text, 'runbooks_runs_waiting', { status: 'awaiting_approval', runbook: 'data-restore' });
        return count > 0 ? { count, text } : undefined;
      },
      20_000,
      'the waiting run in the API’s gauge',
    );
    await request(env.api.server)
      .post(`/v1/runs/${runId}/approvals/approve-restore`)
      .set(auth('alex'))
      .send({ decision: 'approve', comment: 'checked' })
      .expect(200);
    const finished = await eventually(
      async () => {
        const state = await request(env.api.server).get(`/v1/runs/${runId}`).set(auth('sam')).expect(200);
        return state.body.temporalStatus === 'COMPLETED' ? (state.body as RunState) : undefined;
      },
      60_000,
      'the run to complete',
    );
    expect(finished.status).toBe('succeeded');
    // A second run nobody decides: its gate escalates to tier 2 after 2 s, then expires.
    const launched = await request(env.api.server)
      .post('/v1/runs')
      .set(auth('tess'))
      .send({ runbook: 'data-restore', input: { ...(await env.input()), approval: { timeoutSeconds: 2, escalationContact: 'noc-tier2' } } })
      .expect(201);
    const expired = await eventually(
      async () => {
        const state = await request(env.api.server).get(`/v1/runs/${launched.body.runId}`).set(auth('sam')).expect(200);
        return state.body.temporalStatus === 'FAILED' ? (state.body as RunState) : undefined;
      },
      60_000,
      'the undecided run to end',
    );
    expect(expired.status).toBe('rejected');
  });
  afterAll(async () => {
    await workerScrape?.close();
    await env?.stop();
    await tracing?.shutdown();
  });

  it('the API counts the launch, the approval as an operator action, and its requests by route pattern and status', async () => {
    const res = await request(env.api.server).get('/metrics').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const text = res.text;
    expect(sample(text, 'runbooks_api_requests_total', { method: 'POST', route: '/v1/runs', status: '201' })).toBe(2);
    expect(sample(text, 'runbooks_api_requests_total', { method: 'GET', route: '/v1/runs/:id', status: '200' })).toBeGreaterThan(0);
    expect(
      sample(text, 'runbooks_api_request_duration_seconds_count', {
        method: 'POST',
        route: '/v1/runs/:id/approvals/:gateId',
        status: '200',
      }),
    ).toBe(1);
    expect(sample(text, 'runbooks_operator_actions_total', { action: 'approve' })).toBe(1);
    expect(sample(text, 'runbooks_operator_actions_total', { action: 'launchRun' })).toBe(2);
    // Read from Temporal at each scrape: the run at its gate, then none once it ended.
    expect(waitingAtGate.count).toBe(1);
    // By runbook: the other runbooks are there at 0, so a panel shows which runbook's runs wait.
    expect(waitingAtGate.text).toContain('runbooks_runs_waiting{status="awaiting_approval",runbook="security-patching"} 0');
    expect(waitingAtGate.text).toContain('runbooks_runs_waiting{status="awaiting_task",runbook="data-restore"} 0');
    expect(sample(text, 'runbooks_runs_waiting', { status: 'awaiting_approval', runbook: 'data-restore' })).toBe(0);
    // The raw path never becomes a label: no run id in the exposition.
    expect(text).not.toContain(runId);
  });

  it('the worker counts the runs started and ended, times each step and the approval waits, and the SLA breach', async () => {
    const text = await (await fetch(`http://127.0.0.1:${workerScrape.port}/metrics`)).text();
    expect(sample(text, 'runbooks_runs_started_total', { runbook: 'data-restore', trigger: 'api' })).toBe(2);
    expect(sample(text, 'runbooks_runs_ended_total', { runbook: 'data-restore', outcome: 'succeeded' })).toBe(1);
    expect(sample(text, 'runbooks_runs_ended_total', { runbook: 'data-restore', outcome: 'rejected' })).toBe(1);
    // Its deadline passed twice: it went to tier 2, then, with no tier left, it expired.
    expect(sample(text, 'runbooks_sla_breaches_total', { runbook: 'data-restore', kind: 'approval', tier: '2' })).toBe(1);
    expect(sample(text, 'runbooks_sla_breaches_total', { runbook: 'data-restore', kind: 'approval', tier: 'none' })).toBe(1);
    expect(sample(text, 'runbooks_approval_wait_seconds_count', { runbook: 'data-restore', result: 'expired' })).toBe(1);
    for (const step of ['checkBackupRepository', 'restoreToStaging', 'writeReport']) {
      expect(sample(text, 'runbooks_step_duration_seconds_count', { runbook: 'data-restore', step, outcome: 'succeeded' })).toBeGreaterThan(
        0,
      );
    }
    expect(sample(text, 'runbooks_approval_wait_seconds_count', { runbook: 'data-restore', result: 'approved' })).toBe(1);
  });

  it('the API counts runs failing in a row from the reports in the store: the worker writes each with its runbook and outcome', async () => {
    expect(await env.worker.store.reports.get(runId)).toMatchObject({ runbook: 'data-restore', outcome: 'succeeded' });
    const scrape = async () => (await request(env.api.server).get('/metrics').expect(200)).text;
    // One run succeeded, then one was rejected: nothing failed since the success.
    expect(await scrape()).toContain('runbooks_runs_failing_in_a_row{runbook="data-restore"} 0');
    // Two failed runs' reports, as another worker would write them into the shared store.
    for (const failed of ['failed-1', 'failed-2']) {
      await env.worker.store.reports.put(`${failed}-${randomUUID()}`, 'r', '{}', { runbook: 'data-restore', outcome: 'failed' });
    }
    expect(sample(await scrape(), 'runbooks_runs_failing_in_a_row', { runbook: 'data-restore' })).toBe(2);
  });

  it('a waiting run of a runbook no longer in the catalog is counted under runbook "other"', async () => {
    // Only its search attributes matter to the count: a workflow type the worker does not know stays open.
    const handle = await env.temporal.client.workflow.start('retiredRunbook', {
      taskQueue: env.worker.taskQueue,
      workflowId: `retired-${randomUUID()}`,
      typedSearchAttributes: [
        { key: RunbookNameAttr, value: 'retired-runbook' },
        { key: RunStatusAttr, value: 'awaiting_approval' },
      ],
    });
    try {
      const other = await eventually(
        async () => {
          const text = (await request(env.api.server).get('/metrics').expect(200)).text;
          const count = sample(text, 'runbooks_runs_waiting', { status: 'awaiting_approval', runbook: 'other' });
          return count > 0 ? count : undefined;
        },
        20_000,
        'the retired runbook’s run under "other"',
      );
      expect(other).toBe(1);
    } finally {
      await handle.terminate('test over');
    }
  });

  it('one trace runs from the API request through the workflow to its activities', () => {
    const spans = exporter.getFinishedSpans();
    const launch = spans.find((s) => s.name === 'POST /v1/runs');
    expect(launch).toBeDefined();
    const traceId = launch!.spanContext().traceId;
    const inTrace = spans.filter((s: ReadableSpan) => s.spanContext().traceId === traceId).map((s) => s.name);
    expect(inTrace).toEqual(
      expect.arrayContaining(['StartWorkflow:dataRestore', 'RunWorkflow:dataRestore', 'RunActivity:checkBackupRepository']),
    );
    // A workflow span is exported by the worker's sink; the activity span is the activity interceptor's.
    const activity = spans.find((s) => s.name === 'RunActivity:restoreToStaging' && s.spanContext().traceId === traceId);
    expect(activity).toBeDefined();
  });

  it('the traced run replays from its history, after the queries and the update validator it saw live', async () => {
    const handle = env.temporal.client.workflow.getHandle(runId);
    const history = await handle.fetchHistory();
    await recordHistoryIfAsked(handle, 'data-restore-traced');
    await Worker.runReplayHistory(
      {
        workflowBundle: { codePath: process.env.RUNBOOKS_WORKFLOW_BUNDLE as string },
        dataConverter: { payloadCodecs: [testPayloadCodec()] },
        sinks: workerSinks({}),
      },
      history,
      runId,
    );
  });
});

describe('the worker process serves its metrics and the Temporal SDK’s on one loopback port', () => {
  it('answers GET /metrics with the runbook metrics and the SDK’s temporal_ metrics once it polls', async () => {
    const [port, sdkPort] = [await freePort(), await freePort()];
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'worker-metrics-'));
    const child = spawnWorkerProcess({
      RUNBOOKS_DATA_DIR: dataDir,
      RUNBOOKS_TASK_QUEUE: `metrics-${randomUUID()}`,
      RUNBOOKS_WORKER_METRICS_PORT: String(port),
      RUNBOOKS_WORKER_SDK_METRICS_PORT: String(sdkPort),
    });
    try {
      const text = await eventually(
        async () => {
          const res = await fetch(`http://127.0.0.1:${port}/metrics`);
          const body = await res.text();
          return res.ok && /^temporal_num_pollers\{/m.test(body) ? body : undefined;
        },
        60_000,
        'the worker’s /metrics with the SDK’s pollers',
      );
      expect(text).toMatch(/^# TYPE runbooks_runs_started_total counter$/m);
      expect(text).toMatch(/^# TYPE runbooks_step_duration_seconds histogram$/m);
      expect(text).toMatch(/^process_resident_memory_bytes /m);
      expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404);
    } finally {
      await killHard(child);
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  });
});
