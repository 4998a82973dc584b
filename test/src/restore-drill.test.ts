import { WorkflowFailedError, type Client, type Connection, type WorkflowHandle } from '@temporalio/client';
import { drillPath, runStateQuery, type RestoreDrillInput, type RunState, type RunbookStartArgs } from '@runbooks/contracts';
import { TestSecrets } from '../../activities/src/test-support/secrets';
import { createResticRepository, type ResticRepositoryFixture } from '../../activities/src/test-support/restic-repository';
import { auth, startTestApi, type TestApi } from './api/app';
import { recordHistoryIfAsked } from './harness/recorded-histories';
import { eventually, startTestWorker, testClient, type TestWorker } from './harness/worker';
import { randomUUID } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import request from 'supertest';

const PASSWORD_ENV = 'RUNBOOKS_SECRET_RESTORE_DRILL_IT_PASSWORD';
const PASSWORD_REF = 'secret:backup/restore-drill-test';
const requester = { id: 'sam', displayName: 'Sam Scheduler' };

let fixture: ResticRepositoryFixture;
let api: TestApi;
let worker: TestWorker;
let client: Client;
let connection: Connection;
let scratchDir: string;
let secrets: TestSecrets;

beforeAll(async () => {
  fixture = createResticRepository();
  process.env[PASSWORD_ENV] = fixture.password;
  scratchDir = path.join(fixture.root, 'scratch');
  secrets = new TestSecrets([
    {
      name: 'backup/restore-drill-test',
      source: { backend: 'env', variable: PASSWORD_ENV },
      runbooks: ['restore-drill'],
      roles: ['technician', 'scheduler'],
      repositories: [fixture.repoDir],
    },
  ]);
  api = await startTestApi({ secretsFile: secrets.config.catalogFile });
  [worker, { client, connection }] = await Promise.all([
    startTestWorker({ taskQueue: api.taskQueue, secrets: secrets.config }),
    testClient(),
  ]);
});

afterAll(async () => {
  await api?.app.close();
  await worker?.stop();
  await connection?.close();
  fixture?.remove();
  secrets?.remove();
});

function drillInput(overrides: Partial<RestoreDrillInput> = {}): RestoreDrillInput {
  return {
    repository: { url: fixture.repoDir, passwordRef: PASSWORD_REF },
    path: fixture.projectsPath,
    scratchDir,
    ...overrides,
  };
}

function launch(input: RestoreDrillInput, on: TestWorker = worker): Promise<WorkflowHandle> {
  const args: RunbookStartArgs<RestoreDrillInput> = { input, requestedBy: requester };
  return client.workflow.start('restoreDrill', { taskQueue: on.taskQueue, workflowId: `restore-drill-${randomUUID()}`, args: [args] });
}

async function finalState(handle: WorkflowHandle): Promise<RunState> {
  await handle.result().catch((e: unknown) => {
    if (!(e instanceof WorkflowFailedError)) throw e;
  });
  return handle.query(runStateQuery);
}

/** Each drill restores into a subfolder of scratchDir named after its run. */
const scratchOf = (runId: string) => path.join(scratchDir, runId);

describe('restore-drill runbook on a real Temporal server with real restic', () => {
  test('restores the newest snapshot of the path into scratch, verifies every checksum, discards the copy and records the time to restore', async () => {
    const handle = await launch(drillInput());
    const state = (await handle.result()) as RunState;

    expect(state.status).toBe('succeeded');
    expect(state.gates).toEqual([]); // no approval
    expect(state.steps.map((s) => [s.id, s.state])).toEqual([
      ['check-repository', 'succeeded'],
      ['choose-drill-path', 'succeeded'],
      ['restore-to-scratch', 'succeeded'],
      ['verify-checksums', 'succeeded'],
      ['discard-scratch', 'succeeded'],
      ['write-report', 'succeeded'],
    ]);
    expect(String(state.steps.find((s) => s.id === 'choose-drill-path')?.details?.snapshotId)).toMatch(new RegExp(`^${fixture.newer.id}`));
    expect(state.outcome).toMatchObject({
      result: 'passed',
      path: fixture.projectsPath,
      filesVerified: Object.keys(fixture.newer.content).length,
    });
    expect(typeof state.outcome?.timeToRestoreSeconds).toBe('number');
    expect(existsSync(scratchOf(handle.workflowId))).toBe(false);
    const report = await fs.readFile(path.join(worker.reportsDir, `${handle.workflowId}.md`), 'utf8');
    expect(report).toContain('timeToRestoreSeconds');
    await recordHistoryIfAsked(handle, 'restore-drill-passed');
  });

  test('draws the path from the run id: the one drillPath names for that id, among the given paths', async () => {
    const paths = [fixture.projectsPath, path.join(path.dirname(fixture.projectsPath), 'projects-old')];
    const handle = await launch(drillInput({ path: undefined, paths }));
    const state = (await handle.result()) as RunState;
    expect(state.status).toBe('succeeded');
    expect(state.outcome?.path).toBe(drillPath({ paths }, handle.workflowId));
    expect(paths).toContain(state.outcome?.path);
  });

  test('a corrupted repository fails the drill at the repository check, naming restic check, and restores nothing', async () => {
    const broken = fixture.copyRepository(`broken-${randomUUID()}`);
    for (const pack of fixture.dataPackFiles(broken)) writeFileSync(pack, 'garbled');
    secrets.allowRepository('backup/restore-drill-test', broken);
    const handle = await launch(drillInput({ repository: { url: broken, passwordRef: PASSWORD_REF } }));
    const state = await finalState(handle);

    expect(state.status).toBe('failed');
    expect(state.outcome).toMatchObject({ result: 'failed', path: fixture.projectsPath });
    expect(state.steps.find((s) => s.id === 'check-repository')?.state).toBe('failed');
    expect(state.error).toMatch(/restic check/i);
    expect(state.steps.find((s) => s.id === 'restore-to-scratch')?.state).toBe('skipped');
    expect(existsSync(scratchOf(handle.workflowId))).toBe(false);
  });

  test('a restored file that differs from the backup fails the drill with the checksum mismatch and still discards the copy', async () => {
    // The scratch disk flips bytes after restic wrote them: the checksum verification must catch it.
    const damaging = await startTestWorker({
      secrets: secrets.config,
      overrideActivities: (real) => ({
        async restoreToStaging(input) {
          const result = await real.restoreToStaging(input);
          writeFileSync(path.join(input.stagingDir, 'report.txt'), 'bit rot\n');
          return result;
        },
      }),
    });
    try {
      const handle = await launch(drillInput(), damaging);
      const state = await finalState(handle);

      expect(state.status).toBe('failed');
      expect(state.outcome).toMatchObject({ result: 'failed' });
      expect(state.steps.find((s) => s.id === 'verify-checksums')?.state).toBe('failed');
      expect(state.error).toContain('report.txt: content differs from the snapshot');
      expect(state.compensations).toEqual([expect.objectContaining({ title: 'Discard the scratch copy', state: 'done' })]);
      expect(existsSync(scratchOf(handle.workflowId))).toBe(false);
      await recordHistoryIfAsked(handle, 'restore-drill-checksum-mismatch');
    } finally {
      await damaging.stop();
    }
  });

  test('the API refuses a drill input naming both path and paths, or an unknown field, with a 400 naming the field', async () => {
    const both = await request(api.server)
      .post('/v1/runs')
      .set(auth('tess'))
      .send({ runbook: 'restore-drill', input: drillInput({ paths: [fixture.projectsPath] }) })
      .expect(400);
    expect(JSON.stringify(both.body)).toContain('input.path');
    const unknown = await request(api.server)
      .post('/v1/runs')
      .set(auth('tess'))
      .send({ runbook: 'restore-drill', input: { ...drillInput(), target: '/srv/projects' } })
      .expect(400);
    expect(JSON.stringify(unknown.body)).toContain('target');
  });

  test('a schedule created through the API starts the drill (trigger), with no approval, and it passes', async () => {
    const id = `restore-drill-${randomUUID().slice(0, 8)}`;
    await request(api.server)
      .post('/v1/schedules')
      .set(auth('sam'))
      .send({ id, runbook: 'restore-drill', input: drillInput(), spec: { cron: ['0 4 * * *'], timezone: 'UTC' }, paused: true })
      .expect(201);
    try {
      await request(api.server).post(`/v1/schedules/${id}/trigger`).set(auth('sam')).send({}).expect(202);
      const runId = await eventually(
        async () => {
          const res = await request(api.server).get(`/v1/runs?scheduleId=${id}`).set(auth('sam'));
          return res.body.runs?.[0]?.runId as string | undefined;
        },
        30_000,
        'the triggered drill',
      );
      const state = (await client.workflow.getHandle(runId).result()) as RunState;
      expect(state.status).toBe('succeeded');
      expect(state.schedule?.id).toBe(id);
      expect(state.outcome).toMatchObject({ result: 'passed', path: fixture.projectsPath });
    } finally {
      await request(api.server).delete(`/v1/schedules/${id}`).set(auth('sam'));
    }
  });
});
