/**
 * The store's retention and runs ended from outside: a run terminated with the Temporal CLI (or
 * timed out) publishes no last status copy and writes no report, so its copy says running for
 * ever. Once that copy is older than the retention, the worker writing a report asks Temporal and
 * forgets the run when it is closed or unknown, never one still open. Real Temporal dev server,
 * both store backends; writeReport runs in an activity context carrying a real client.
 */
import { Client, Connection } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { closeSafeGrpcRetry } from '@runbooks/activities';
import { IDLE_CHECKS, createReportActivities } from '../../activities/src/reports/activities';
import { minimalRunState } from '../../activities/src/test-support/run-state';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { STORE_BACKENDS, closeStores, openStore } from './harness/stores';
import { temporalAddress } from './harness/worker';

const LONG_AGO = '2020-01-01T00:00:00.000Z';

describe.each(STORE_BACKENDS)('retention of runs ended from outside, store on $name', ({ freshLocation }) => {
  let connection: Connection;
  let client: Client;
  const dirs: string[] = [];
  beforeAll(async () => {
    connection = await Connection.connect({ address: temporalAddress(), interceptors: [closeSafeGrpcRetry()] });
    client = new Client({ connection, namespace: 'default' });
  });
  afterAll(async () => {
    await connection.close();
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });
  afterEach(closeStores);

  /** Starts a workflow no worker polls: open until terminated. */
  const startOpen = async (name: string) => {
    const handle = await client.workflow.start('retentionProbe', {
      taskQueue: `retention-${randomUUID()}`,
      workflowId: `${name}-${randomUUID()}`,
      args: [],
    });
    return handle;
  };

  it('forgets a terminated run and one Temporal no longer knows, and keeps an open one, once their copies are past the retention', async () => {
    const store = openStore(await freshLocation());
    await store.ready();
    const terminated = await startOpen('terminated');
    await terminated.terminate('ended from outside');
    const open = await startOpen('still-waiting');
    const unknown = `forgotten-by-temporal-${randomUUID()}`;
    const recent = await startOpen('terminated-recently');
    await recent.terminate('ended from outside');
    // Copies as the worker left them when each run last changed: running, long ago (the recent one today).
    for (const runId of [terminated.workflowId, open.workflowId, unknown]) {
      await store.db
        .insertInto('run_status')
        .values({ run_id: runId, status: 'running', version: '1', updated_at: LONG_AGO, body: '{}' })
        .execute();
      await store.runHosts.plan(runId, [[`${runId}-h1`, `${runId}-h2`]], 2);
    }
    await store.runStatus.put(recent.workflowId, 'running', '1', '{}');
    const reportsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'retention-reports-'));
    dirs.push(reportsDir);
    const { writeReport } = createReportActivities(reportsDir, store, { days: 30 });

    await new MockActivityEnvironment({}, { client }).run(writeReport, { state: minimalRunState(`ends-now-${randomUUID()}`) });

    expect(await store.runStatus.get(terminated.workflowId)).toBeUndefined();
    expect(await store.runHosts.all(terminated.workflowId)).toEqual([]);
    expect(await store.runStatus.get(unknown)).toBeUndefined();
    expect(await store.runStatus.get(open.workflowId)).toMatchObject({ status: 'running' });
    expect(await store.runHosts.all(open.workflowId)).toHaveLength(2);
    expect(await store.runStatus.get(recent.workflowId)).toMatchObject({ status: 'running' });
    await open.terminate('test over');
  });

  it('asks about runs found open last, so more than IDLE_CHECKS runs left open never keep a terminated one from being forgotten', async () => {
    const store = openStore(await freshLocation());
    await store.ready();
    const open = await Promise.all(Array.from({ length: IDLE_CHECKS + 1 }, () => startOpen('open-for-good')));
    const terminated = await startOpen('terminated-later');
    await terminated.terminate('ended from outside');
    // Every open run went idle before the terminated one, so it is the last of them, oldest first.
    const idle = [...open.map((handle) => [handle.workflowId, LONG_AGO]), [terminated.workflowId, '2020-06-01T00:00:00.000Z']];
    for (const [runId, updatedAt] of idle)
      await store.db
        .insertInto('run_status')
        .values({ run_id: runId, status: 'running', version: '1', updated_at: updatedAt, body: '{}' })
        .execute();
    const reportsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'retention-reports-'));
    dirs.push(reportsDir);
    const { writeReport } = createReportActivities(reportsDir, store, { days: 30 });
    const aRunEnds = () =>
      new MockActivityEnvironment({}, { client }).run(writeReport, { state: minimalRunState(`ends-now-${randomUUID()}`) });

    await aRunEnds(); // asks about the IDLE_CHECKS oldest: all open
    expect(await store.runStatus.get(terminated.workflowId)).toMatchObject({ status: 'running' });
    await aRunEnds(); // the one open run not asked yet, then the terminated one

    expect(await store.runStatus.get(terminated.workflowId)).toBeUndefined();
    for (const handle of open) expect(await store.runStatus.get(handle.workflowId)).toMatchObject({ status: 'running' });
    await Promise.all(open.map((handle) => handle.terminate('test over')));
  });

  it('leaves a run alone when its copy changed between the question and the delete (its id started again)', async () => {
    const store = openStore(await freshLocation());
    await store.ready();
    await store.db
      .insertInto('run_status')
      .values({ run_id: 'reused-key', status: 'running', version: '1', updated_at: LONG_AGO, body: '{}' })
      .execute();
    await store.reports.put('reused-key', 'new-run', '{"again":true}');
    // The run started again under the same id publishes a fresh copy before the forget.
    await store.runStatus.put('reused-key', 'running', '2', '{"again":true}');

    expect(await store.reports.forget(['reused-key'], undefined, '2026-01-01T00:00:00.000Z')).toEqual([]);
    expect(await store.runStatus.get('reused-key')).toMatchObject({ version: '2' });
    expect(await store.reports.get('reused-key')).toMatchObject({ runId: 'new-run' });
  });

  it('without a client in its context (a mock environment, a script) asks no one and forgets no open-looking run', async () => {
    const store = openStore(await freshLocation());
    await store.ready();
    await store.db
      .insertInto('run_status')
      .values({ run_id: 'no-client', status: 'running', version: '1', updated_at: LONG_AGO, body: '{}' })
      .execute();
    const reportsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'retention-reports-'));
    dirs.push(reportsDir);
    const { writeReport } = createReportActivities(reportsDir, store, { days: 30 });

    await new MockActivityEnvironment({}).run(writeReport, { state: minimalRunState(`ends-now-${randomUUID()}`) });

    expect(await store.runStatus.get('no-client')).toMatchObject({ status: 'running' });
  });
});
