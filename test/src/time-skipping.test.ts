import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import {
  SEARCH_ATTRIBUTE_REGISTRATIONS,
  runStateQuery,
  securityPatchingInputSchema,
  type RunState,
  type RunbookStartArgs,
  type SecurityPatchingInput,
} from '@runbooks/contracts';
import { InventoryStore, createHostRecordActivities, type NotifyInput, type RunbookActivities } from '@runbooks/activities';
import { Store } from '@runbooks/store';
import { withAttemptEnvelopes } from '@runbooks/worker';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { withHostRecords } from './harness/fleet-campaign';
import { installQuietRuntime } from './harness/worker';

/**
 * Engine unit tests on Temporal's time-skipping test server (the Java one, fetched from Maven by
 * test/time-skipping/fetch.sh and started by the SDK through test-server.sh), with mocked
 * activities: hours of approval timeouts and days of bake time pass in workflow time only.
 * Every assertion is on outcomes and on times the workflow recorded, never on wall time.
 */
const TIME_SKIPPING = path.resolve(__dirname, '..', 'time-skipping');
const HOUR = 3600_000;
const DAY = 24 * HOUR;

const CANARY = ['lab-canary-1'];
const PRODUCTION = ['lab-prod-1', 'lab-prod-2', 'lab-prod-3', 'lab-prod-4'];
const INPUT_SHA256 = 'ab'.repeat(32);

let env: TestWorkflowEnvironment;
/** Where the runs' host records go (a fleet run keeps counts in its state, each host's record in the store). */
let store: Store;
let storeDir: string;

beforeAll(async () => {
  installQuietRuntime();
  storeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'time-skipping-'));
  store = Store.open({ kind: 'sqlite', file: path.join(storeDir, 'runbooks.sqlite') });
  // The plan reads the inventory in the store (planRollout) and keeps each host's record there.
  const labHost = (name: string, group: string) => ({
    name,
    address: `${name}.invalid`,
    osFamily: 'lab' as const,
    driver: 'lab' as const,
    tags: ['lab', group],
  });
  await new InventoryStore(store).replace({
    hosts: [...CANARY.map((h) => labHost(h, 'canary')), ...PRODUCTION.map((h) => labHost(h, 'prod'))],
  });
  execFileSync('bash', [path.join(TIME_SKIPPING, 'fetch.sh')], { stdio: ['ignore', 'ignore', 'inherit'] });
  env = await startTestServer();
  const types: Record<string, temporal.api.enums.v1.IndexedValueType> = {
    Keyword: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    Bool: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
    Int: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_INT,
  };
  await env.connection.operatorService.addSearchAttributes({
    namespace: 'default',
    searchAttributes: Object.fromEntries(
      SEARCH_ATTRIBUTE_REGISTRATIONS.map((r) => r.split('=')).map(([name, type]) => [name, types[type]]),
    ),
  });
});

/**
 * The SDK gives the server 5 s to answer (not configurable); the JVM takes about 2 s here, and a
 * loaded 2-core machine can make it miss that once. Only that failure is retried.
 */
async function startTestServer(): Promise<TestWorkflowEnvironment> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await TestWorkflowEnvironment.createTimeSkipping({
        server: { executable: { type: 'existing-path', path: path.join(TIME_SKIPPING, 'test-server.sh') } },
      });
    } catch (error) {
      if (attempt === 3 || !String(error).includes('did not start within')) throw error;
    }
  }
}

afterAll(async () => {
  await env?.teardown();
  await store?.close();
  fs.rmSync(storeDir, { recursive: true, force: true });
});

interface Mocks {
  activities: RunbookActivities;
  notices: NotifyInput[];
  restored: string[];
}

/** In-memory host activities: every host patches; the `unhealthy` ones fail their health check. */
function mockActivities(options: { unhealthy?: string[]; approvedAhead?: boolean } = {}): Mocks {
  const notices: NotifyInput[] = [];
  const restored: string[] = [];
  const activities: Partial<RunbookActivities> = {
    ...createHostRecordActivities(store, new InventoryStore(store)),
    checkMaintenanceWindow: async () => ({ open: true, reason: 'no window named, no freeze' }),
    snapshotHost: async ({ host }) => ({ snapshotId: `snap-${host}` }),
    patchHost: async ({ patches }) => ({ changed: patches.map((p) => ({ package: p.package, from: '1.0', to: p.version })) }),
    checkHostHealth: async ({ host }) =>
      options.unhealthy?.includes(host) ? { healthy: false, detail: `${host}: service down` } : { healthy: true, detail: 'ok' },
    restoreHostSnapshot: async ({ host }) => {
      restored.push(host);
      return { restored: ['openssl'] };
    },
    notify: async (input) => {
      notices.push(input);
      return { delivered: true, channel: 'mock' };
    },
    writeReport: async ({ state }) => ({ markdownPath: `${state.runId}.md`, jsonPath: `${state.runId}.json` }),
    claimPreApprovals: async ({ scheduleId, gateId, inputSha256 }) => ({
      approvals: options.approvedAhead
        ? [
            {
              id: 'p1',
              scheduleId,
              gateId,
              inputSha256,
              by: 'alex',
              displayName: 'Alex',
              comment: 'standing approval',
              at: new Date().toISOString(),
            },
          ]
        : [],
      voided: [],
    }),
  };
  return { activities: activities as RunbookActivities, notices, restored };
}

function patchingInput(overrides: Partial<SecurityPatchingInput> = {}): SecurityPatchingInput {
  return securityPatchingInputSchema.parse({
    targets: { tags: ['lab'] },
    patches: [{ package: 'openssl', version: '3.0.15' }],
    waves: [1, 'rest'],
    concurrency: 2,
    batchSize: 2,
    bakeSeconds: 0,
    windowRecheckSeconds: 3600,
    failureThreshold: { count: 0 },
    ...overrides,
  });
}

/** Runs one security-patching workflow to its end with the mocks, on a worker of its own. */
async function runPatching(mocks: Mocks, input: SecurityPatchingInput, scheduled = false): Promise<{ state: RunState; failed: boolean }> {
  const taskQueue = `time-skipping-${randomUUID()}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: { codePath: process.env.RUNBOOKS_WORKFLOW_BUNDLE as string },
    activities: withAttemptEnvelopes(mocks.activities),
  });
  const args: RunbookStartArgs<SecurityPatchingInput> = {
    input,
    requestedBy: { id: 'tess', displayName: 'Tess' },
    ...(scheduled ? { scheduleId: 'weekly-lab-patch', inputSha256: INPUT_SHA256 } : {}),
  };
  return worker.runUntil(async () => {
    const handle: WorkflowHandle = await env.client.workflow.start('securityPatching', {
      taskQueue,
      workflowId: `patching-${randomUUID()}`,
      args: [args],
    });
    const failed = await handle.result().then(
      () => false,
      (error: unknown) => {
        if (!(error instanceof WorkflowFailedError)) throw error;
        return true;
      },
    );
    return { state: await withHostRecords(await handle.query(runStateQuery), store), failed };
  });
}

const at = (iso: string | undefined) => Date.parse(iso as string);

describe('the step engine on the time-skipping test server, with mocked activities', () => {
  test('an undecided approval escalates to tier 2 after one timeout, to tier 3 after two, and rejects the run after three', async () => {
    const mocks = mockActivities();
    const { state, failed } = await runPatching(
      mocks,
      patchingInput({
        approval: {
          timeoutSeconds: 3600,
          requiredApprovals: 1,
          escalation: [
            { tier: 2, contact: 'desktop-support' },
            { tier: 3, contact: 'server-team' },
          ],
        },
      }),
    );

    expect(failed).toBe(true);
    expect(state.status).toBe('rejected');
    const gate = state.gates[0];
    expect(gate.state).toBe('expired');
    expect(gate.escalations.map((e) => [e.tier, e.contact])).toEqual([
      [2, 'desktop-support'],
      [3, 'server-team'],
    ]);
    // Workflow time: each tier held the gate for its full hour.
    expect(at(gate.escalations[0].at) - at(gate.openedAt)).toBeGreaterThanOrEqual(HOUR);
    expect(at(gate.escalations[1].at) - at(gate.escalations[0].at)).toBeGreaterThanOrEqual(HOUR);
    expect(at(gate.closedAt) - at(gate.escalations[1].at)).toBeGreaterThanOrEqual(HOUR);
    expect(mocks.notices.filter((n) => n.kind === 'escalation').map((n) => n.recipients)).toEqual([['desktop-support'], ['server-team']]);
    // Production was never started.
    expect(state.rollout?.hosts.filter((h) => PRODUCTION.includes(h.name)).map((h) => h.state)).toEqual(PRODUCTION.map(() => 'pending'));
  });

  test('a production host failing its health check past the threshold stops the rollout; it is rolled back, later hosts never start', async () => {
    const mocks = mockActivities({ unhealthy: ['lab-prod-1'], approvedAhead: true });
    const { state, failed } = await runPatching(mocks, patchingInput(), true);

    expect(failed).toBe(true);
    expect(state.status).toBe('failed');
    expect(state.gates[0].decisions.map((d) => d.by)).toEqual(['alex']); // approved ahead, for the schedule
    expect(state.rollout?.stopReason).toBe('failure threshold passed: 1 hosts failed, at most 0 tolerated');
    expect(state.rollout?.hosts.map((h) => [h.name, h.state])).toEqual([
      ['lab-canary-1', 'patched'],
      ['lab-prod-1', 'rolled_back'],
      ['lab-prod-2', 'skipped'],
      ['lab-prod-3', 'skipped'],
      ['lab-prod-4', 'skipped'],
    ]);
    expect(mocks.restored).toEqual(['lab-prod-1']);
  });

  test('a run given a start time two days ahead waits for it before touching any host', async () => {
    const startAt = new Date(Date.now() + 2 * DAY).toISOString();
    const { state, failed } = await runPatching(mockActivities({ approvedAhead: true }), patchingInput({ startAt }), true);

    expect(failed).toBe(false);
    const waited = state.steps.find((s) => s.id === 'wait-for-window');
    expect(at(waited?.endedAt)).toBeGreaterThanOrEqual(at(startAt));
    expect(at(state.rollout?.waves[0].startedAt)).toBeGreaterThanOrEqual(at(startAt));
    expect(state.rollout?.hosts.every((h) => h.state === 'patched')).toBe(true);
  });

  test('each wave bakes for its full bake time before the next starts', async () => {
    const mocks = mockActivities({ approvedAhead: true });
    const { state, failed } = await runPatching(mocks, patchingInput({ bakeSeconds: DAY / 1000 }), true);

    expect(failed).toBe(false);
    expect(state.status).toBe('succeeded');
    const waves = state.rollout?.waves ?? [];
    expect(waves.map((w) => [w.name, w.state])).toEqual([
      ['canary', 'done'],
      ['wave 1', 'done'],
      ['wave 2', 'done'],
    ]);
    for (const wave of waves) expect(at(wave.endedAt) - at(wave.startedAt)).toBeGreaterThanOrEqual(DAY);
    for (let i = 1; i < waves.length; i++) expect(at(waves[i].startedAt)).toBeGreaterThanOrEqual(at(waves[i - 1].endedAt));
    expect(at(state.endedAt) - at(state.requestedAt)).toBeGreaterThanOrEqual(3 * DAY);
  });
});
