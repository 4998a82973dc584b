import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import {
  pauseRolloutUpdate,
  resumeRolloutUpdate,
  runStateQuery,
  softwareFixInputSchema,
  softwareFixSchema,
  type RunState,
  type RunbookStartArgs,
  type SoftwareFixInput,
} from '@runbooks/contracts';
import { approveProduction, gatePending, operator, requester, useLabFleets, whenState, withHostRecords } from './harness/fleet-campaign';
import { recordRunChainIfAsked } from './harness/recorded-histories';
import type { TestWorker } from './harness/worker';
import type { LabFleetFixture } from '../../apps/worker/src/demo/lab-fixture';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

/**
 * The second per-host procedure on the fleet machinery: the same waves, threshold, steering,
 * rollback and report as security patching, with another procedure (software-fix) per host.
 */
const BEFORE = { 'libvpn-client': '4.2.0', openssl: '3.0.11' };
const FIX = { package: 'libvpn-client', version: '4.2.1', reason: 'INC-7731: VPN client conflicts with the 4.2.0 TLS stack' };
const fleets = useLabFleets('software-fix-it', BEFORE);

function input(overrides: Partial<SoftwareFixInput> = {}): SoftwareFixInput {
  return softwareFixInputSchema.parse({
    targets: { tags: ['lab'] },
    fix: FIX,
    waves: [1, 'rest'],
    concurrency: 2,
    batchSize: 3,
    bakeSeconds: 0,
    hostTimeoutSeconds: 20,
    failureThreshold: { count: 1 },
    ...overrides,
  });
}

async function launch(worker: TestWorker, i: SoftwareFixInput): Promise<WorkflowHandle> {
  const args: RunbookStartArgs<SoftwareFixInput> = { input: i, requestedBy: requester };
  return fleets.client.workflow.start('softwareFix', {
    taskQueue: worker.taskQueue,
    workflowId: `software-fix-${randomUUID()}`,
    args: [args],
  });
}

/** Canary, wave 1 of one host, wave 2 of the rest, all done; the broken host failed (within the threshold) and was rolled back. */
function expectWavesWithOneRolledBack(state: RunState, broken: string, lastWave: number): void {
  expect(state.status).toBe('succeeded'); // one failure is within the threshold
  expect(state.rollout?.waves.map((w) => [w.name, w.hosts, w.state])).toEqual([
    ['canary', 1, 'done'],
    ['wave 1', 1, 'done'],
    ['wave 2', lastWave, 'done'],
  ]);
  expect(state.rollout?.hosts.find((h) => h.name === broken)).toMatchObject({ state: 'rolled_back' });
}

/** The lab's ledger: every host changed once, under the run's fix key; only the broken one restored. */
async function expectEachHostFixedOnce(lab: LabFleetFixture, runId: string, broken: string): Promise<void> {
  const ledger = await lab.fleet.ledger();
  const fixes = ledger.filter((e) => e.op === 'patch');
  expect(fixes.map((e) => e.host).sort()).toEqual([...lab.canary, ...lab.production].sort());
  expect(fixes.every((e) => e.key === `${runId}/fix/${e.host}`)).toBe(true);
  expect(ledger.filter((e) => e.op === 'restore').map((e) => e.host)).toEqual([broken]);
}

describe('software-fix runbook: another per-host procedure on the fleet machinery, on a real Temporal server', () => {
  test('installs the fixed version on the canary, then production in waves; a host unhealthy after the fix gets its old version back', async () => {
    const { lab, worker } = await fleets.labWithWorker(1, 6);
    try {
      const broken = lab.production[2];
      await lab.fleet.setFaults(broken, { failHealth: true });
      const handle = await launch(worker, input());
      await approveProduction(handle);
      const state = await withHostRecords((await handle.result()) as RunState, lab.store);

      expect(state.runbook).toBe('software-fix');
      expectWavesWithOneRolledBack(state, broken, 5);
      expect(state.rollout?.hosts.find((h) => h.name === broken)?.error).toContain('unhealthy after applying the fix');
      for (const host of [...lab.canary, ...lab.production]) {
        const expected = host === broken ? BEFORE : { ...BEFORE, 'libvpn-client': '4.2.1' };
        expect((await lab.fleet.readHost(host)).packages).toEqual(expected);
      }
      // The procedure's own operations, each once per host, under its own idempotency keys.
      await expectEachHostFixedOnce(lab, handle.workflowId, broken);
      expect(state.gates[0].title).toBe(`Install libvpn-client 4.2.1 on 6 production hosts: ${FIX.reason}`);

      const report = await fs.readFile(path.join(worker.reportsDir, `${handle.workflowId}.md`), 'utf8');
      expect(report).toContain('# Software fix');
      expect(report).toContain('### Host by host');
      for (const host of lab.production) expect(report).toContain(`| ${host} |`);
      await recordRunChainIfAsked(fleets.client, handle, 'software-fix-waves');
    } finally {
      await worker.stop();
    }
  });

  test("software-conflict's rollback-and-hold fix goes fleet-wide in waves: each host changed once and held; an unhealthy one is rolled back and unheld", async () => {
    const { lab, worker } = await fleets.labWithWorker(1, 4);
    try {
      const broken = lab.production[1];
      await lab.fleet.setFaults(broken, { failHealth: true });
      const rollback = {
        package: 'libvpn-client',
        version: '4.1.9',
        reason: 'INC-4242: found by software-conflict',
        action: 'rollback',
        hold: true,
      };
      const handle = await launch(worker, input({ fix: softwareFixSchema.parse(rollback) }));
      await approveProduction(handle);
      const state = await withHostRecords((await handle.result()) as RunState, lab.store);

      expectWavesWithOneRolledBack(state, broken, 3);
      for (const host of [...lab.canary, ...lab.production]) {
        const after = await lab.fleet.readHost(host);
        expect(after.packages).toEqual(host === broken ? BEFORE : { ...BEFORE, 'libvpn-client': '4.1.9' });
        expect(after.held ?? []).toEqual(host === broken ? [] : ['libvpn-client']);
      }
      await expectEachHostFixedOnce(lab, handle.workflowId, broken);
      expect(state.gates[0].title).toBe(
        'Roll libvpn-client back to 4.1.9 and hold it on 4 production hosts: INC-4242: found by software-conflict',
      );
    } finally {
      await worker.stop();
    }
  });

  test('a hold without a rollback is refused, naming the field', () => {
    const refused = softwareFixInputSchema.safeParse({ targets: { tags: ['lab'] }, fix: { ...FIX, hold: true } });
    expect(refused.success).toBe(false);
    expect(refused.error?.issues).toEqual([
      expect.objectContaining({ path: ['fix', 'hold'], message: 'hold applies only to action "rollback"' }),
    ]);
  });

  test('operators steer it like a patch campaign, and past the threshold it stops and undoes every changed host', async () => {
    const { lab, worker } = await fleets.labWithWorker(1, 6);
    try {
      await lab.fleet.setFaults(lab.production[1], { failHealth: true });
      await lab.fleet.setFaults(lab.production[2], { failPatch: true });
      const handle = await launch(worker, input({ waves: ['rest'], concurrency: 1, rollback: 'all-changed-hosts' }));
      await whenState(handle, 'production gate pending', gatePending);
      await handle.executeUpdate(pauseRolloutUpdate, { args: [{ principal: operator, reason: 'waiting for the vendor note' }] });
      await approveProduction(handle);
      expect((await handle.query(runStateQuery)).rollout?.paused).toBe(true);
      await handle.executeUpdate(resumeRolloutUpdate, { args: [{ principal: operator, reason: '' }] });
      const state = await handle.result().then(
        () => {
          throw new Error('the run should have stopped at its failure threshold');
        },
        async (error: unknown) => {
          expect(error).toBeInstanceOf(WorkflowFailedError);
          return handle.query(runStateQuery);
        },
      );

      expect(state.status).toBe('failed');
      expect(state.rollout?.stopReason).toContain('failure threshold passed: 2 hosts failed, at most 1 tolerated');
      expect(state.rollout?.operatorActions.map((a) => [a.action, a.by])).toEqual([
        ['pause', 'terry'],
        ['resume', 'terry'],
      ]);
      // Every host the fix reached is back on its previous version; hosts after the stop were never touched.
      const ledger = await lab.fleet.ledger();
      for (const host of new Set(ledger.filter((e) => e.op === 'patch').map((e) => e.host))) {
        expect((await lab.fleet.readHost(host)).packages).toEqual(BEFORE);
      }
      for (const host of lab.production.slice(3)) expect(ledger.some((e) => e.host === host)).toBe(false);
      expect(state.compensations.find((c) => c.stepId === 'production-waves')?.state).toBe('done');
      await recordRunChainIfAsked(fleets.client, handle, 'software-fix-threshold-rollback');
    } finally {
      await worker.stop();
    }
  });
});
