import type { RunState } from '@runbooks/contracts';
import { ResticFixture, readTree, writeTree } from '../../apps/worker/src/demo/restic-fixture';
import { eventually, testClient } from '../src/harness/worker';
import { PINNED_RESTORE_ACTIVITIES, activityPlacements } from '../src/harness/worker-affinity';
import { TOKENS, callApi, stackCommand, workerPid } from './stack';
import type { Client, Connection } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

const snapshotContent = { 'report.txt': 'quarterly report as backed up\n', 'data/ledger.csv': 'id,amount\n1,100\n' };

let client: Client;
let connection: Connection;
let root: string;
let repository: ResticFixture;
let source: string;

beforeAll(async () => {
  // The stack's workers read this folder: the targets are "on the file server", outside the
  // service's data folder (which no restore may write into, whatever the policy says).
  const fileServer = path.join(process.env.RUNBOOKS_STACK_DIR as string, 'fileserver');
  root = path.join(fileServer, `restore-${randomUUID()}`);
  await fs.mkdir(root, { recursive: true });
  // The one repository the stack's password secret may open; the operator who made it knows the password.
  const repositoryPath = process.env.RUNBOOKS_STACK_RESTIC_REPOSITORY as string;
  const password = (await fs.readFile(path.join(process.env.RUNBOOKS_SECRETS_DIR as string, 'backup', 'stack'), 'utf8')).trim();
  const initialized = await fs.access(path.join(repositoryPath, 'config')).then(
    () => true,
    () => false,
  );
  repository = initialized ? new ResticFixture(repositoryPath, password) : await ResticFixture.init(repositoryPath, password);
  source = path.join(root, 'srv', 'projects');
  await writeTree(source, snapshotContent);
  await repository.backup(source, new Date('2026-11-01T10:00:00Z'));
  // Restores are refused until an admin says where this repository may restore into.
  const policy = await callApi('B', 'PUT', '/v1/policy/restore-targets', TOKENS.admin, {
    rules: [{ repository: repositoryPath, roots: [fileServer] }],
  });
  expect(policy.status).toBe(200);
  ({ client, connection } = await testClient());
});

afterAll(async () => {
  await connection?.close();
});

/** Launches a restore (of `from`, by default the small share) through replica A; resolves with its run id. */
async function launchRestore(from = source): Promise<{ runId: string; target: string }> {
  const target = path.join(root, 'targets', randomUUID(), 'projects');
  await writeTree(target, { 'report.txt': 'DAMAGED\n' });
  const launched = await callApi<{ runId: string }>('A', 'POST', '/v1/runs', TOKENS.technician, {
    runbook: 'data-restore',
    input: {
      repository: { url: repository.repository, passwordRef: process.env.RUNBOOKS_STACK_RESTIC_PASSWORD_REF },
      path: from,
      target,
      affectedUsers: ['jane@example.test'],
      ticket: 'INC-7001',
      approval: { timeoutSeconds: 600, escalationContact: 'ops-2nd-line' },
    },
  });
  expect(launched.status).toBe(201);
  return { runId: launched.body.runId, target };
}

async function runState(replica: 'A' | 'B', runId: string): Promise<RunState> {
  const answer = await callApi<RunState>(replica, 'GET', `/v1/runs/${runId}`, TOKENS.technician);
  if (answer.status !== 200) throw new Error(`GET /v1/runs/${runId} on ${replica}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body;
}

async function finished(runId: string, timeoutMs = 180_000): Promise<RunState> {
  return eventually(
    async () => {
      const state = await runState('B', runId);
      return ['succeeded', 'failed', 'cancelled', 'rejected'].includes(state.status) ? state : undefined;
    },
    timeoutMs,
    `run ${runId} finished`,
  );
}

/** Approves through replica B once the run (launched on A) waits for it. */
async function approveThroughB(runId: string) {
  await eventually(
    async () => ((await runState('B', runId)).status === 'awaiting_approval' ? true : undefined),
    60_000,
    'awaiting approval',
  );
  return callApi('B', 'POST', `/v1/runs/${runId}/approvals/approve-restore`, TOKENS.approver, {
    decision: 'approve',
    comment: 'approved on the other replica',
  });
}

test('a run launched through API replica A is approved through replica B and completes', async () => {
  const { runId, target } = await launchRestore();
  const decided = await approveThroughB(runId);
  expect(decided.status).toBe(200);
  expect(decided.body).toMatchObject({ state: 'approved' });

  const state = await finished(runId);
  expect(state.status).toBe('succeeded');
  expect(state.gates[0].decisions).toEqual([expect.objectContaining({ by: 'alex', comment: 'approved on the other replica' })]);
  expect(await readTree(target)).toEqual(snapshotContent);
  // Both replicas answer for the same run: the state lives in Temporal, not in either process.
  expect((await runState('A', runId)).status).toBe('succeeded');
});

test('restores with both workers up run staging, verify and swap on one worker each', async () => {
  const runs = await Promise.all([launchRestore(), launchRestore(), launchRestore()]);
  for (const { runId } of runs) expect((await approveThroughB(runId)).status).toBe(200);
  const workerPids = new Set([workerPid('a'), workerPid('b')]);

  for (const { runId, target } of runs) {
    const state = await finished(runId);
    expect(state.status).toBe('succeeded');
    expect(await readTree(target)).toEqual(snapshotContent);

    const placements = activityPlacements(await client.workflow.getHandle(runId).fetchHistory());
    const answer = placements.find((p) => p.activity === 'workerTaskQueue');
    const pinned = placements.filter((p) => PINNED_RESTORE_ACTIVITIES.includes(p.activity));
    expect(pinned.map((p) => p.activity)).toEqual(PINNED_RESTORE_ACTIVITIES);
    expect([...new Set(pinned.map((p) => p.taskQueue))]).toEqual([expect.stringMatching(/^runbooks@worker-[ab]$/)]);
    expect([...new Set(pinned.map((p) => p.identity))]).toEqual([answer?.identity]);
    // The identity (pid@host) is one of the stack's two worker processes.
    expect(workerPids.has(Number(answer?.identity.split('@')[0]))).toBe(true);
    expect(state.steps.find((s) => s.id === 'swap-into-target')?.details?.workerTaskQueue).toBe(pinned[0].taskQueue);
  }
});

test('a restore whose worker is killed before the swap starts again from staging on the other worker and completes', async () => {
  // Enough files that staging and verifying (one restic dump per file) outlast the kill.
  const share = path.join(root, 'srv', 'big');
  const files = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`dir-${i % 6}/file-${i}.txt`, `content ${i}\n`.repeat(200)]));
  await writeTree(share, files);
  await repository.backup(share, new Date('2026-11-02T10:00:00Z'));
  const { runId, target } = await launchRestore(share);
  expect((await approveThroughB(runId)).status).toBe(200);

  // The moment staging is sent to a worker's own queue, that worker dies.
  const handle = client.workflow.getHandle(runId);
  const firstQueue = await eventually(
    async () => {
      const events = (await handle.fetchHistory()).events ?? [];
      const staging = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'restoreToStaging');
      return staging?.activityTaskScheduledEventAttributes?.taskQueue?.name ?? undefined;
    },
    60_000,
    'staging scheduled',
  );
  const victim = firstQueue.endsWith('@worker-a') ? 'a' : 'b';
  const survivor = victim === 'a' ? 'b' : 'a';
  const victimPid = workerPid(victim);
  process.kill(victimPid, 'SIGKILL');
  try {
    // A minute with nobody polling its queue (plus a heartbeat timeout if it had started) marks it lost.
    const state = await finished(runId, 300_000);
    expect(state.status).toBe('succeeded');
    expect(await readTree(target)).toEqual(files);
    expect(state.outcome?.workersLost).toEqual([expect.stringContaining(`${firstQueue} stopped answering during`)]);

    const placements = activityPlacements(await handle.fetchHistory());
    const finalRun = placements.filter((p) => PINNED_RESTORE_ACTIVITIES.includes(p.activity)).slice(-3);
    expect(finalRun.map((p) => p.activity)).toEqual(PINNED_RESTORE_ACTIVITIES);
    expect([...new Set(finalRun.map((p) => p.taskQueue))]).toEqual([`runbooks@worker-${survivor}`]);
    expect([...new Set(finalRun.map((p) => Number(p.identity.split('@')[0])))]).toEqual([workerPid(survivor)]);
  } finally {
    stackCommand('worker', victim);
  }
});
