import type { Client, Connection, WorkflowHandle } from '@temporalio/client';
import {
  launchAssertionName,
  securityPatchingInputSchema,
  claimTaskUpdate,
  parseAssertionKeys,
  runStateQuery,
  signAssertion,
  type DiskReplacementInput,
  type Principal,
  type RunState,
  type RunbookStartArgs,
} from '@runbooks/contracts';
import { randomBytes, randomUUID } from 'node:crypto';
import request from 'supertest';
import { auth, startTestApi, type TestApi } from './api/app';
import { acceptedUpdates } from './harness/history';
import { eventually, startTestWorker, testClient, type TestWorker } from './harness/worker';

const keys = `k2:${randomBytes(32).toString('base64')},k1:${randomBytes(32).toString('base64')}`;
const [newest, older] = parseAssertionKeys(keys);
const fran: Principal = { id: 'fran', displayName: 'Fran First-Line', roles: ['tier1', 'technician'] };
const alex: Principal = { id: 'alex', displayName: 'Alex Approver', roles: ['approver'] };

let client: Client;
let connection: Connection;
let worker: TestWorker;
let api: TestApi;

beforeAll(async () => {
  api = await startTestApi({ assertionKeys: keys });
  ({ client, connection } = await testClient());
  worker = await startTestWorker({ taskQueue: api.taskQueue, assertions: { keys, maxAgeMs: 60_000 } });
});
afterAll(async () => {
  await api?.app.close();
  await worker?.stop();
  await connection?.close();
});

async function launchDirectly(): Promise<WorkflowHandle> {
  const input: DiskReplacementInput = { host: 'db-07', slot: 'bay 3', notify: ['dba-team'], slaSeconds: 600 };
  const args: RunbookStartArgs<DiskReplacementInput> = { input, requestedBy: { id: 'tess', displayName: 'Tess Technician' } };
  const handle = await client.workflow.start('diskReplacement', {
    taskQueue: worker.taskQueue,
    workflowId: `disk-replacement-${randomUUID()}`,
    args: [args],
  });
  await eventually(async () => ((await handle.query(runStateQuery)).tasks?.[0]?.state === 'open' ? true : undefined), 20_000, 'task open');
  return handle;
}

const refusalOf = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (e: { cause?: { type?: string; message?: string } }) => e.cause,
  );

describe('updates carry the API’s signed word on the caller', () => {
  test('a principal forged through a raw Temporal client is refused before it enters history', async () => {
    const handle = await launchDirectly();
    // Anyone with frontend access can write any principal: unsigned, it is refused.
    expect(await refusalOf(handle.executeUpdate(claimTaskUpdate, { args: [{ taskId: 'swap-disk', principal: fran }] }))).toMatchObject({
      type: 'RunbookForbidden',
      message: expect.stringMatching(/no signed assertion/),
    });
    // A genuine assertion for someone else does not vouch for the principal written beside it.
    const forAlex = signAssertion(newest, claimTaskUpdate.name, alex, { taskId: 'swap-disk', principal: alex }, new Date());
    expect(
      await refusalOf(handle.executeUpdate(claimTaskUpdate, { args: [{ taskId: 'swap-disk', principal: fran, assertion: forAlex }] })),
    ).toMatchObject({ message: expect.stringMatching(/principal in the request \(fran\) is not the one the API vouched for \(alex\)/) });
    // A key the worker does not hold signs nothing.
    const foreign = signAssertion(
      { kid: 'k1', key: randomBytes(32) },
      claimTaskUpdate.name,
      fran,
      { taskId: 'swap-disk', principal: fran },
      new Date(),
    );
    expect(
      await refusalOf(handle.executeUpdate(claimTaskUpdate, { args: [{ taskId: 'swap-disk', principal: fran, assertion: foreign }] })),
    ).toMatchObject({
      message: expect.stringMatching(/signature is wrong/),
    });
    expect(acceptedUpdates(await handle.fetchHistory())).toBe(0);

    // Signed with the older key still listed (rotation), it is taken.
    const args = { taskId: 'swap-disk', principal: fran };
    const task = await handle.executeUpdate(claimTaskUpdate, {
      args: [{ ...args, assertion: signAssertion(older, claimTaskUpdate.name, fran, args, new Date()) }],
    });
    expect(task.claimedBy?.id).toBe('fran');
    await handle.cancel();
  });

  test('a stale assertion is refused', async () => {
    const handle = await launchDirectly();
    const args = { taskId: 'swap-disk', principal: fran };
    const stale = signAssertion(newest, claimTaskUpdate.name, fran, args, new Date(Date.now() - 5 * 60_000));
    expect(await refusalOf(handle.executeUpdate(claimTaskUpdate, { args: [{ ...args, assertion: stale }] }))).toMatchObject({
      type: 'RunbookForbidden',
      message: expect.stringMatching(/stale: issued 30\d s ago, at most 60 s accepted/),
    });
    expect(acceptedUpdates(await handle.fetchHistory())).toBe(0);
    await handle.cancel();
  });

  test('through the API the caller is signed for, so claim and cancel are taken', async () => {
    const launched = await request(api.server)
      .post('/v1/runs')
      .set(auth('tess'))
      .send({ runbook: 'disk-replacement', input: { host: 'db-07', slot: 'bay 3', notify: ['dba-team'] } })
      .expect(201);
    const runId: string = launched.body.runId;
    await eventually(
      async () =>
        (await request(api.server).get(`/v1/runs/${runId}`).set(auth('tess'))).body.status === 'awaiting_task' ? true : undefined,
      20_000,
      'the run to wait on its task',
    );
    await request(api.server).post(`/v1/runs/${runId}/tasks/swap-disk/claim`).set(auth('fran')).send({}).expect(200);
    await request(api.server).post(`/v1/runs/${runId}/cancel`).set(auth('tess')).send({ reason: 'disk came back online' }).expect(202);
    const history = await client.workflow.getHandle(runId).fetchHistory();
    expect(acceptedUpdates(history)).toBe(2);
  });

  describe('a launch setting windowOverride (admins only) is checked by the run itself', () => {
    const ada: Principal = { id: 'ada', displayName: 'Ada Admin', roles: ['admin'] };
    const input = securityPatchingInputSchema.parse({
      targets: { names: ['lab-web-1'] },
      canary: { names: ['lab-web-1'] },
      patches: [{ package: 'openssl', version: '3.0.13-1' }],
      windowOverride: { reason: 'CVE under attack' },
    });
    const requestedBy = { id: 'ada', displayName: 'Ada Admin' };

    async function startPatching(args: RunbookStartArgs): Promise<RunState> {
      const handle = await client.workflow.start('securityPatching', {
        taskQueue: worker.taskQueue,
        workflowId: `security-patching-${randomUUID()}`,
        args: [args],
      });
      await handle.result().catch(() => undefined);
      return handle.query(runStateQuery);
    }

    test('started without the API, claiming to be an admin, it fails before any step', async () => {
      const state = await startPatching({ input, requestedBy, principal: ada });
      expect(state.status).toBe('failed');
      expect(state.error).toMatch(/input\.windowOverride needs a launch the API vouched for: .*no signed assertion/);
      expect(state.steps.filter((s) => s.state !== 'skipped' && s.id !== 'write-report')).toEqual([]);
    });

    test('signed for a technician, it fails naming the field and the role', async () => {
      const tess: Principal = { id: 'tess', displayName: 'Tess Technician', roles: ['technician'] };
      const args = { input, requestedBy: { id: 'tess', displayName: 'Tess Technician' }, principal: tess };
      const assertion = signAssertion(newest, launchAssertionName('securityPatching'), tess, args, new Date());
      const state = await startPatching({ ...args, assertion });
      expect(state.error).toMatch(/^input\.windowOverride: only admin may run outside the maintenance window/);
    });

    test('signed for an admin, it goes on to its steps', async () => {
      const args = { input, requestedBy, principal: ada };
      const assertion = signAssertion(newest, launchAssertionName('securityPatching'), ada, args, new Date());
      const state = await startPatching({ ...args, assertion });
      expect(state.error ?? '').not.toMatch(/vouched|only admin/);
      expect(state.steps.find((s) => s.id === 'build-inventory')?.state).not.toBe('skipped'); // admission passed: the first step ran
    });
  });
});
