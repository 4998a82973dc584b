import type { Client, Connection, WorkflowHandle } from '@temporalio/client';
import {
  decideApprovalUpdate,
  runStateQuery,
  securityPatchingInputSchema,
  type RunState,
  type RunbookStartArgs,
  type SecurityPatchingInput,
} from '@runbooks/contracts';
import { CalendarStore } from '@runbooks/activities';
import { createLabFleet, type LabFleetFixture } from '../../apps/worker/src/demo/lab-fixture';
import { eventually, startTestWorker, testClient, type TestWorker } from './harness/worker';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** Windows of a few seconds: open 4 s of every 10 s. */
const OPEN_S = 4;
const EVERY_S = 10;
const PATCH_MS = 500;

let client: Client;
let connection: Connection;
let root: string;

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'window-it-'));
  ({ client, connection } = await testClient());
});

afterAll(async () => {
  await connection?.close();
  await fs.rm(root, { recursive: true, force: true });
});

async function fleet(production: number): Promise<{ lab: LabFleetFixture; worker: TestWorker; calendar: CalendarStore }> {
  const lab = await createLabFleet({
    dir: path.join(root, randomUUID()),
    canary: 1,
    production,
    packages: { openssl: '3.0.11' },
    slowPatchMs: PATCH_MS,
  });
  const worker = await startTestWorker({ hosts: lab, store: lab.store });
  return { lab, worker, calendar: new CalendarStore(lab.store) };
}

async function launch(worker: TestWorker, overrides: Partial<SecurityPatchingInput>): Promise<WorkflowHandle> {
  const input = securityPatchingInputSchema.parse({
    targets: { tags: ['lab'] },
    patches: [{ package: 'openssl', version: '3.0.15' }],
    waves: ['rest'],
    concurrency: 1,
    batchSize: 50,
    bakeSeconds: 0,
    windowRecheckSeconds: 1,
    failureThreshold: { count: 0 },
    ...overrides,
  });
  const args: RunbookStartArgs<SecurityPatchingInput> = { input, requestedBy: { id: 'tess', displayName: 'Tess' } };
  const handle = await client.workflow.start('securityPatching', {
    taskQueue: worker.taskQueue,
    workflowId: `security-patching-${randomUUID()}`,
    args: [args],
  });
  return handle;
}

async function approveWhenAsked(handle: WorkflowHandle): Promise<void> {
  await eventually(async () => ((await handle.query(runStateQuery)).gates[0]?.state === 'pending' ? true : undefined), 60_000, 'gate');
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
}

describe('maintenance windows and change freezes hold a lab rollout on a real Temporal server', () => {
  test('a rollout longer than its window pauses between hosts when the window closes and goes on when it reopens', async () => {
    const { lab, worker, calendar } = await fleet(12);
    try {
      await calendar.putWindow({
        name: 'short',
        opens: `*/${EVERY_S} * * * * *`,
        timezone: 'UTC',
        durationSeconds: OPEN_S,
        description: '',
      });
      const handle = await launch(worker, { maintenanceWindow: 'short' });
      await approveWhenAsked(handle);
      // While it runs, the status says what it waits for whenever the window is shut.
      // (The parent learns host results when a batch ends; mid-batch progress is in the ledger.)
      const waiting = await eventually(
        async () => {
          const s = await handle.query(runStateQuery);
          const productionPatched = (await lab.fleet.ledger()).some((e) => e.op === 'patch' && lab.production.includes(e.host));
          return s.rollout?.windowClosed && productionPatched ? s : undefined;
        },
        60_000,
        'rollout held by the closed window mid-wave',
      );
      expect(waiting.rollout?.waitingFor).toMatch(/^maintenance window short opens at /);
      const state = (await handle.result()) as RunState;
      expect(state.status).toBe('succeeded');

      // Every host was started while the window was open: its patch ends within the open part
      // of a 10 s cycle plus one patch duration (a host is never interrupted half-way).
      const patches = (await lab.fleet.ledger()).filter((e) => e.op === 'patch');
      expect(patches).toHaveLength(13);
      for (const p of patches) {
        const intoCycleMs = Date.parse(p.at) % (EVERY_S * 1000);
        expect(intoCycleMs).toBeLessThan(OPEN_S * 1000 + PATCH_MS + 1500);
      }
      // 13 hosts of 0.5 s at concurrency 1 need more than one 4 s window.
      const cycles = new Set(patches.map((p) => Math.floor(Date.parse(p.at) / (EVERY_S * 1000))));
      expect(cycles.size).toBeGreaterThan(1);
    } finally {
      await worker.stop();
    }
  });

  test('a change freeze declared mid-run pauses the rollout until it ends', async () => {
    const { lab, worker, calendar } = await fleet(10);
    try {
      const handle = await launch(worker, {});
      await approveWhenAsked(handle);
      await eventually(
        async () => ((await lab.fleet.ledger()).filter((e) => e.op === 'patch').length >= 3 ? true : undefined),
        30_000,
        'patching under way',
      );
      const from = new Date();
      const to = new Date(from.getTime() + 5000);
      await calendar.putFreeze({
        name: 'incident-freeze',
        periods: [{ from: from.toISOString(), to: to.toISOString(), reason: 'major incident' }],
      });

      const held = await eventually(
        async () => {
          const s = await handle.query(runStateQuery);
          return s.rollout?.windowClosed ? s : undefined;
        },
        10_000,
        'rollout held by the freeze',
      );
      expect(held.rollout?.waitingFor).toContain('change freeze incident-freeze (major incident)');
      const state = (await handle.result()) as RunState;
      expect(state.status).toBe('succeeded');

      // No host was started inside the freeze: patches end before it (plus the one in flight) or after it.
      const patches = (await lab.fleet.ledger()).filter((e) => e.op === 'patch');
      expect(patches).toHaveLength(11);
      const inside = patches.filter((p) => Date.parse(p.at) > from.getTime() + PATCH_MS + 1500 && Date.parse(p.at) < to.getTime());
      expect(inside).toEqual([]);
      expect(patches.some((p) => Date.parse(p.at) >= to.getTime())).toBe(true);
    } finally {
      await worker.stop();
    }
  });

  test('an admin override runs through a freeze and the reason is in the report', async () => {
    const { lab, worker, calendar } = await fleet(2);
    try {
      await calendar.putFreeze({
        name: 'year-end',
        periods: [
          {
            from: new Date(Date.now() - 60_000).toISOString(),
            to: new Date(Date.now() + 3_600_000).toISOString(),
            reason: 'year-end close',
          },
        ],
      });
      const handle = await launch(worker, { windowOverride: { reason: 'critical CVE, approved by the CAB' } });
      await approveWhenAsked(handle);
      const state = (await handle.result()) as RunState;
      expect(state.status).toBe('succeeded');
      expect(state.outcome?.windowOverride).toBe('by tess: critical CVE, approved by the CAB');
      expect((await lab.fleet.ledger()).filter((e) => e.op === 'patch')).toHaveLength(3);
      const report = await fs.readFile(path.join(worker.reportsDir, `${handle.workflowId}.md`), 'utf8');
      expect(report).toContain('critical CVE, approved by the CAB');
    } finally {
      await worker.stop();
    }
  });
});
