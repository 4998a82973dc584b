import { NativeConnection, Worker } from '@temporalio/worker';
import type { Client, Connection, WorkflowHandle } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { createActivities, LogNotifier, type RunbookActivities } from '@runbooks/activities';
import {
  batchControlSignal,
  batchProgressQuery,
  type BatchControl,
  type HostBatchInput,
  type HostBatchResult,
  type HostRecord,
} from '@runbooks/contracts';
import { withAttemptEnvelopes, workerSinks } from '@runbooks/worker';
import { createLabFleet, type LabFleetFixture } from '../../apps/worker/src/demo/lab-fixture';
import { hostRecords } from './harness/fleet-campaign';
import { eventually, installQuietRuntime, startTestWorker, temporalAddress, testClient, testPayloadCodec } from './harness/worker';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

const PATCHES = [{ package: 'openssl', version: '3.0.15' }];

let client: Client;
let connection: Connection;
let root: string;

beforeAll(async () => {
  installQuietRuntime();
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'fleet-batch-it-'));
  ({ client, connection } = await testClient());
});

afterAll(async () => {
  await connection?.close();
  await fs.rm(root, { recursive: true, force: true });
});

/** A call held until the test lets it go, and a promise that says it was reached. */
class Gate {
  private release!: () => void;
  private reach!: () => void;
  readonly released = new Promise<void>((resolve) => (this.release = resolve));
  readonly reached = new Promise<void>((resolve) => (this.reach = resolve));
  async pass(): Promise<void> {
    this.reach();
    await this.released;
  }
  open(): void {
    this.release();
  }
}

/** The batch's history events of one kind. */
async function events(handle: WorkflowHandle, kind: keyof temporal.api.history.v1.IHistoryEvent): Promise<number> {
  return ((await handle.fetchHistory()).events ?? []).filter((e) => e[kind] != null).length;
}

describe('a fleet batch on a real Temporal server', () => {
  test('a success and a failure landing in one workflow task with no budget left start no further host', async () => {
    const lab: LabFleetFixture = await createLabFleet({
      dir: path.join(root, 'lab'),
      canary: 0,
      production: 4,
      packages: { openssl: '3.0.11' },
    });
    const [succeeds, fails, third, fourth] = lab.production;
    await lab.fleet.setFaults(fails, { failPatch: true });
    // The success's last activity (its health check) and the failure's (its patch) are held until the
    // workflow worker is gone, then let go one after the other: the next workflow task carries both,
    // the success first. A success settles in fewer steps than a failed patch, so it reaches the
    // window first; only the failure's count may decide whether a third host starts.
    const health = new Gate();
    const patch = new Gate();
    const real = createActivities({
      store: lab.store,
      reportsDir: path.join(root, 'reports'),
      dataDir: root,
      notifier: new LogNotifier(path.join(root, 'notifications.jsonl')),
      hosts: lab,
      secrets: { catalogFile: path.join(root, 'secrets.json'), secretsDir: path.join(root, 'secrets') },
    });
    const activities: RunbookActivities = {
      ...real,
      checkHostHealth: async (input) => {
        if (input.host === succeeds) await health.pass();
        return real.checkHostHealth(input);
      },
      patchHost: async (input) => {
        if (input.host === fails) await patch.pass();
        return real.patchHost(input);
      },
    };
    const taskQueue = `batch-budget-${randomUUID()}`;
    const workerConnection = await NativeConnection.connect({ address: temporalAddress() });
    const common = {
      connection: workerConnection,
      namespace: 'default',
      taskQueue,
      dataConverter: { payloadCodecs: [testPayloadCodec()] },
    };
    const workflowWorker = () =>
      Worker.create({ ...common, workflowBundle: { codePath: process.env.RUNBOOKS_WORKFLOW_BUNDLE as string }, sinks: workerSinks({}) });
    const activityWorker = await Worker.create({ ...common, activities: withAttemptEnvelopes(activities) });
    const activitiesRunning = activityWorker.run();
    let second: Worker | undefined;
    let secondRunning: Promise<void> | undefined;
    try {
      const first = await workflowWorker();
      const firstRunning = first.run();
      const input: HostBatchInput = {
        runId: `batch-budget-${randomUUID()}`,
        wave: 0,
        batch: 0,
        hosts: [succeeds, fails, third, fourth],
        procedure: { name: 'security-patch', params: { patches: PATCHES } },
        control: { paused: false, concurrency: 2, skipped: [], stop: false },
        failureBudget: 0,
        hostTimeoutSeconds: 20,
      };
      const handle = await client.workflow.start('patchBatch', { taskQueue, workflowId: input.runId, args: [input] });
      await Promise.all([health.reached, patch.reached]);
      first.shutdown();
      await firstRunning;

      const completed = await events(handle, 'activityTaskCompletedEventAttributes');
      health.open();
      await eventually(
        async () => ((await events(handle, 'activityTaskCompletedEventAttributes')) > completed ? true : undefined),
        20_000,
        'the health check recorded',
      );
      patch.open();
      await eventually(
        async () => ((await events(handle, 'activityTaskFailedEventAttributes')) > 0 ? true : undefined),
        20_000,
        'the failed patch recorded',
      );
      second = await workflowWorker();
      secondRunning = second.run();

      const result = (await handle.result()) as HostBatchResult;
      const state = (name: string) => result.hosts.find((h) => h.name === name) as HostRecord;
      expect(state(succeeds).state).toBe('patched');
      expect(state(fails)).toMatchObject({ state: 'rolled_back', error: expect.stringContaining('failPatch fault') });
      for (const name of [third, fourth]) {
        expect(state(name)).toMatchObject({ state: 'skipped', error: 'not started: the failure threshold was passed' });
      }
      const touched = new Set((await lab.fleet.ledger()).map((e) => e.host));
      expect(touched.has(third) || touched.has(fourth)).toBe(false);
    } finally {
      health.open();
      patch.open();
      second?.shutdown();
      await secondRunning;
      activityWorker.shutdown();
      await activitiesRunning;
      await workerConnection.close();
      await lab.store.close();
    }
  });

  test('outcomes the store refuses for longer than a few local attempts are recorded by the queued activity', async () => {
    const lab = await createLabFleet({ dir: path.join(root, 'outage'), canary: 0, production: 2, packages: { openssl: '3.0.11' } });
    let calls = 0;
    const worker = await startTestWorker({
      hosts: lab,
      store: lab.store,
      overrideActivities: (real) => ({
        recordHostOutcomes: async (outcomes) => {
          calls += 1;
          if (calls <= 5) throw new Error('the store is unavailable'); // every local attempt
          return real.recordHostOutcomes(outcomes);
        },
      }),
    });
    try {
      const runId = `fleet-batch-${randomUUID()}`;
      await lab.store.runHosts.plan(runId, [lab.production], 10);
      const input: HostBatchInput = {
        runId,
        wave: 0,
        batch: 0,
        hosts: lab.production,
        procedure: { name: 'security-patch', params: { patches: PATCHES } },
        control: { paused: false, concurrency: 2, skipped: [], stop: false },
        failureBudget: 0,
        hostTimeoutSeconds: 20,
        recordHosts: true,
      };
      const handle = await client.workflow.start('patchBatch', { taskQueue: worker.taskQueue, workflowId: runId, args: [input] });
      const result = (await handle.result()) as HostBatchResult;

      expect(result.hosts).toEqual([]);
      expect(calls).toBe(6);
      expect((await hostRecords(lab.store, runId)).map((h) => [h.name, h.state])).toEqual(lab.production.map((name) => [name, 'patched']));
      const queued = ((await handle.fetchHistory()).events ?? []).filter(
        (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'recordHostOutcomes',
      );
      expect(queued).toHaveLength(1);
    } finally {
      await worker.stop();
      await lab.store.close();
    }
  });

  test('a batch narrowed, paused, widened and stopped starts hosts only as its control allows', async () => {
    const lab = await createLabFleet({ dir: path.join(root, 'steered'), canary: 0, production: 6, packages: { openssl: '3.0.11' } });
    const hosts = lab.production;
    // Each host's health check is held until the test lets it go: a host is running until then.
    const gates = new Map(hosts.map((h) => [h, new Gate()]));
    const worker = await startTestWorker({
      hosts: lab,
      store: lab.store,
      overrideActivities: (real) => ({
        checkHostHealth: async (input) => {
          await gates.get(input.host)?.pass();
          return real.checkHostHealth(input);
        },
      }),
    });
    try {
      const control: BatchControl = { paused: false, concurrency: 2, skipped: [], stop: false };
      const runId = `fleet-batch-${randomUUID()}`;
      const input: HostBatchInput = {
        runId,
        wave: 0,
        batch: 0,
        hosts,
        procedure: { name: 'security-patch', params: { patches: PATCHES } },
        control,
        failureBudget: 0,
        hostTimeoutSeconds: 20,
      };
      const handle = await client.workflow.start('patchBatch', { taskQueue: worker.taskQueue, workflowId: runId, args: [input] });
      const steer = (change: Partial<BatchControl>) => handle.signal(batchControlSignal, { ...control, ...change });
      const states = async () => (await handle.query(batchProgressQuery)).map((h) => h.state);
      const finished = (host: string) =>
        eventually(async () =>
          (await handle.query(batchProgressQuery)).find((h) => h.name === host)?.state === 'patched' ? true : undefined,
        );
      await Promise.all([gates.get(hosts[0])?.reached, gates.get(hosts[1])?.reached]);

      // Narrowed to 1 with 2 running: the first host's end starts nothing (the task that records it would have).
      await steer({ concurrency: 1 });
      gates.get(hosts[0])?.open();
      await finished(hosts[0]);
      expect(await states()).toEqual(['patched', 'patching', 'pending', 'pending', 'pending', 'pending']);

      // Paused, with room for 2: the second host's end starts nothing either.
      await steer({ paused: true, concurrency: 2 });
      gates.get(hosts[1])?.open();
      await finished(hosts[1]);
      expect(await states()).toEqual(['patched', 'patched', 'pending', 'pending', 'pending', 'pending']);

      // Resumed and widened to 2: two hosts start at once.
      await steer({ paused: false, concurrency: 2 });
      await Promise.all([gates.get(hosts[2])?.reached, gates.get(hosts[3])?.reached]);
      expect(await states()).toEqual(['patched', 'patched', 'patching', 'patching', 'pending', 'pending']);

      // Stopped: the two running finish, the rest never start.
      await steer({ stop: true });
      gates.get(hosts[2])?.open();
      gates.get(hosts[3])?.open();
      const result = (await handle.result()) as HostBatchResult;
      expect(result.hosts.map((h) => [h.state, h.error])).toEqual([
        ['patched', undefined],
        ['patched', undefined],
        ['patched', undefined],
        ['patched', undefined],
        ['skipped', 'not started: the rollout was stopped'],
        ['skipped', 'not started: the rollout was stopped'],
      ]);
      expect(new Set((await lab.fleet.ledger()).map((e) => e.host))).toEqual(new Set(hosts.slice(0, 4)));
    } finally {
      for (const gate of gates.values()) gate.open();
      await worker.stop();
      await lab.store.close();
    }
  });
});
