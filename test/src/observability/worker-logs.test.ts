import type { Client, Connection } from '@temporalio/client';
import {
  decideApprovalUpdate,
  runStateQuery,
  securityPatchingInputSchema,
  type RunState,
  type RunbookStartArgs,
  type SecurityPatchingInput,
} from '@runbooks/contracts';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createLabFleet } from '../../../apps/worker/src/demo/lab-fixture';
import { freePort } from '../harness/dev-server';
import { eventually, testClient } from '../harness/worker';
import { killHard, spawnWorkerProcess } from '../harness/worker-process';

type LogLine = Record<string, unknown> & { msg?: string; runId?: string; runbook?: string; step?: string; principal?: string };

let client: Client;
let connection: Connection;
let root: string;
let worker: ChildProcess | undefined;
const output: string[] = [];

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'worker-logs-'));
  ({ client, connection } = await testClient());
});
afterAll(async () => {
  if (worker) await killHard(worker);
  await connection?.close();
  await fs.rm(root, { recursive: true, force: true });
});

describe('the worker process’s log lines', () => {
  it('are JSON, and every line of a run’s workflows and activities names the run, its runbook, the step and the principal, the SDK’s own started lines too, down to the campaign’s batch children (and so do the step metrics)', async () => {
    const lab = await createLabFleet({ dir: path.join(root, 'fleet'), canary: 1, production: 3, packages: { openssl: '3.0.11' } });
    const taskQueue = `logs-${randomUUID()}`;
    const metricsPort = await freePort();
    worker = spawnWorkerProcess(
      {
        RUNBOOKS_TASK_QUEUE: taskQueue,
        RUNBOOKS_DATA_DIR: path.join(root, 'fleet'),
        RUNBOOKS_LAB_ROOT: lab.labRoot,
        RUNBOOKS_HOST_STATE_DIR: lab.stateDir,
        // The SDK's lines about each workflow and activity are at debug.
        RUNBOOKS_LOG_LEVEL: 'debug',
        RUNBOOKS_WORKER_METRICS_PORT: String(metricsPort),
      },
      { stdout: 'pipe' },
    );
    worker.stdout?.setEncoding('utf8').on('data', (chunk: string) => output.push(chunk));

    const input: SecurityPatchingInput = securityPatchingInputSchema.parse({
      targets: { tags: ['lab'] },
      patches: [{ package: 'openssl', version: '3.0.15' }],
      waves: ['rest'],
      bakeSeconds: 0,
      failureThreshold: { count: 0 },
    });
    const args: RunbookStartArgs<SecurityPatchingInput> = { input, requestedBy: { id: 'tess', displayName: 'Tess' } };
    const runId = `security-patching-${randomUUID()}`;
    const handle = await client.workflow.start('securityPatching', { taskQueue, workflowId: runId, args: [args] });
    await eventually(
      async () => ((await handle.query(runStateQuery)).gates[0]?.state === 'pending' ? true : undefined),
      60_000,
      'the gate',
    );
    await handle.executeUpdate(decideApprovalUpdate, {
      args: [
        {
          gateId: 'approve-production',
          decision: 'approve',
          comment: '',
          principal: { id: 'alex', displayName: 'Alex', roles: ['approver'] },
        },
      ],
    });
    expect(((await handle.result()) as RunState).status).toBe('succeeded');
    // The last lines (the run's completion) may still be on their way through the pipe.
    const lines = await eventually(
      async () => {
        const all = parse(output.join(''));
        return all.some((l) => l.msg === 'Workflow completed' && l.runId === runId) ? all : undefined;
      },
      10_000,
      'the run’s completion in the log',
    );

    const ofRun = lines.filter((l) => typeof l.runId === 'string' && l.runId.startsWith(runId));
    const activities = ofRun.filter((l) => l.msg === 'Activity completed');
    // The parent's steps and the batch children's host steps, each named.
    expect(activities.map((l) => l.step)).toEqual(expect.arrayContaining(['planRollout', 'writeReport']));
    const inBatches = activities.filter((l) => l.runId !== runId);
    expect(inBatches.length).toBeGreaterThan(0);
    expect(inBatches[0].runId).toMatch(new RegExp(`^${runId}/wave-`));
    // A batch's lines name the campaign's runbook, not the batch's workflow type.
    for (const line of activities) {
      expect(line).toMatchObject({ service: 'worker', principal: 'tess', runbook: 'security-patching', step: expect.any(String) });
    }
    expect(inBatches.map((l) => l.step)).toEqual(expect.arrayContaining(['snapshotHost', 'patchHost']));
    expect(inBatches[0].workflowType).toBe('patchBatch');
    // The workflows' own lines (the parent's and each batch's completion) carry the requester too.
    const workflows = ofRun.filter((l) => l.msg === 'Workflow completed');
    expect(workflows.length).toBeGreaterThan(1);
    for (const line of workflows) expect(line).toMatchObject({ principal: 'tess', runbook: 'security-patching' });

    // Every line of the run's workflows and activities, the SDK's own lifecycle lines among them:
    // "Workflow started" and "Activity started" are logged before `execute` sees the run's arguments
    // and headers (the workflow interceptors read them as the run's first activation begins; the
    // activity's line is logged again by the interceptor that reads its header, in place of the SDK's).
    expect(ofRun.filter((l) => l.msg === 'Workflow started').length).toBe(workflows.length);
    const started = ofRun.filter((l) => l.msg === 'Activity started');
    expect(started.length).toBeGreaterThanOrEqual(activities.length);
    // Once per attempt: the SDK's own line is left out, not written beside ours.
    const attempts = started.map((l) => `${l.runId} ${String(l.activityId)} ${String(l.attempt)}`);
    expect(new Set(attempts).size).toBe(started.length);
    expect(started.every((l) => l.sdkComponent === 'worker' && !('runContextRead' in l))).toBe(true);
    const atDebugOrAbove = ofRun.filter((l) => l.level !== 'trace');
    for (const line of atDebugOrAbove) expect(line).toMatchObject({ principal: 'tess', runbook: 'security-patching' });
    for (const line of atDebugOrAbove.filter((l) => l.msg?.startsWith('Activity '))) expect(line.step).toEqual(expect.any(String));

    // So do the step metrics: the host steps of the batches count under security-patching.
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const stepCounts = metrics.split('\n').filter((l) => l.startsWith('runbooks_step_duration_seconds_count{'));
    expect(stepCounts.some((l) => l.includes('step="patchHost"'))).toBe(true);
    for (const line of stepCounts) expect(line).toContain('runbook="security-patching"');
  });
});

/** Every line of the worker's stdout, each of which must be one JSON object. */
function parse(text: string): LogLine[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      try {
        return JSON.parse(line) as LogLine;
      } catch {
        throw new Error(`the worker wrote a line that is not JSON: ${line.slice(0, 200)}`);
      }
    });
}
