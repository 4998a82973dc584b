import type { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { decideApprovalUpdate, runStateQuery, type DataRestoreInput, type RunState, type RunbookStartArgs } from '@runbooks/contracts';
import { ResticFixture, readTree, writeTree } from '../../apps/worker/src/demo/restic-fixture';
import { eventually, testClient } from './harness/worker';
import { allowRestoresIn, killHard, spawnWorkerProcess } from './harness/worker-process';
import { TestSecrets } from '../../activities/src/test-support/secrets';
import { PINNED_RESTORE_ACTIVITIES, activityPlacements } from './harness/worker-affinity';
import { recordHistoryIfAsked } from './harness/recorded-histories';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

const PASSWORD = 'affinity-test-restic-password';
const RESTORES = 4;

let client: Client;
let connection: Connection;
let root: string;
let fixture: ResticFixture;
let source: string;
const workers: ChildProcess[] = [];
let secrets: TestSecrets;
const taskQueue = `affinity-${randomUUID()}`;

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'affinity-it-'));
  fixture = await ResticFixture.init(path.join(root, 'repo'), PASSWORD);
  source = path.join(root, 'srv', 'projects');
  await writeTree(source, { 'report.txt': 'kept in the backup\n', 'data/ledger.csv': 'id,amount\n1,100\n' });
  await fixture.backup(source, new Date('2026-11-01T10:00:00Z'));
  ({ client, connection } = await testClient());
  secrets = new TestSecrets([
    {
      name: 'backup/affinity',
      source: { backend: 'env', variable: 'RUNBOOKS_SECRET_AFFINITY_IT' },
      runbooks: ['data-restore'],
      roles: ['technician'],
      repositories: [fixture.repository],
    },
  ]);
  for (const id of ['one', 'two']) {
    await allowRestoresIn(path.join(root, `data-${id}`), fixture.repository, root);
    workers.push(
      spawnWorkerProcess({
        RUNBOOKS_TASK_QUEUE: taskQueue,
        RUNBOOKS_WORKER_ID: `worker-${id}`,
        RUNBOOKS_DATA_DIR: path.join(root, `data-${id}`),
        RUNBOOKS_SECRETS_FILE: secrets.config.catalogFile,
        RUNBOOKS_SECRETS_DIR: secrets.config.secretsDir,
        RUNBOOKS_SECRET_AFFINITY_IT: PASSWORD,
      }),
    );
  }
});

afterAll(async () => {
  for (const w of workers) await killHard(w);
  await connection?.close();
  secrets?.remove();
  await fs.rm(root, { recursive: true, force: true });
});

/** How many worker processes poll a queue for activities (both must be up before the runs start). */
async function activityPollers(queue: string): Promise<number> {
  const response = await connection.workflowService.describeTaskQueue({
    namespace: 'default',
    taskQueue: { name: queue },
    taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
  });
  return new Set((response.pollers ?? []).map((p) => p.identity)).size;
}

test('with two worker processes, each restore runs staging, verify and swap on the one worker that answered for its machine', async () => {
  await eventually(async () => ((await activityPollers(taskQueue)) === 2 ? true : undefined), 60_000, 'two workers polling');

  const targets = await Promise.all(
    Array.from({ length: RESTORES }, async () => {
      const target = path.join(root, 'targets', randomUUID(), 'projects');
      await writeTree(target, { 'report.txt': 'DAMAGED\n' });
      return target;
    }),
  );
  const handles = await Promise.all(
    targets.map((target) => {
      const input: DataRestoreInput = {
        repository: { url: fixture.repository, passwordRef: 'secret:backup/affinity' },
        path: source,
        target,
        affectedUsers: ['jane@example.test'],
        approval: { timeoutSeconds: 600, escalationContact: 'ops-2nd-line' },
      };
      const args: RunbookStartArgs<DataRestoreInput> = { input, requestedBy: { id: 'tess', displayName: 'Tess' } };
      return client.workflow.start('dataRestore', { taskQueue, workflowId: `data-restore-${randomUUID()}`, args: [args] });
    }),
  );
  for (const handle of handles) {
    await eventually(async () => ((await handle.query(runStateQuery)).status === 'awaiting_approval' ? true : undefined), 60_000, 'gate');
    await handle.executeUpdate(decideApprovalUpdate, {
      args: [
        {
          gateId: 'approve-restore',
          decision: 'approve',
          comment: '',
          principal: { id: 'alex', displayName: 'Alex', roles: ['approver'] },
        },
      ],
    });
  }

  for (const [i, handle] of handles.entries()) {
    const state = (await handle.result()) as RunState;
    expect(state.status).toBe('succeeded');
    expect(await readTree(targets[i])).toEqual({ 'report.txt': 'kept in the backup\n', 'data/ledger.csv': 'id,amount\n1,100\n' });

    const placements = activityPlacements(await handle.fetchHistory());
    const answer = placements.find((p) => p.activity === 'workerTaskQueue');
    expect(answer?.taskQueue).toBe(taskQueue);
    const pinned = placements.filter((p) => PINNED_RESTORE_ACTIVITIES.includes(p.activity));
    expect(pinned.map((p) => p.activity)).toEqual(PINNED_RESTORE_ACTIVITIES);
    // All three went to one worker's own queue and were taken by the process that named it.
    expect([...new Set(pinned.map((p) => p.taskQueue))]).toEqual([expect.stringMatching(new RegExp(`^${taskQueue}@worker-(one|two)$`))]);
    expect([...new Set(pinned.map((p) => p.identity))]).toEqual([answer?.identity]);
    // The status (and so the report) says where each pinned step ran.
    for (const id of ['restore-to-staging', 'verify-restored-content', 'swap-into-target']) {
      expect(state.steps.find((s) => s.id === id)?.details?.workerTaskQueue).toBe(pinned[0].taskQueue);
    }
    if (i === 0) await recordHistoryIfAsked(handle, 'data-restore-two-workers');
  }
});
