import {
  decideApprovalUpdate,
  parseAssertionKeys,
  runStateQuery,
  signAssertion,
  type DataRestoreInput,
  type Principal,
  type RunState,
  type RunbookStartArgs,
  type SecretDefinition,
} from '@runbooks/contracts';
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import request from 'supertest';
import { eventually } from '../harness/worker';
import { auth } from './app';
import { RESTORE_SECRET, startRestoreEnvironment, type RestoreEnvironment } from './restore-environment';

/**
 * Issue 10 item 2 / issue 8 item 5: the worker checks a secret's definition against the run's
 * runbook and its launcher's roles as the API signed them, when the activity resolves it; not only
 * the API at launch. Refused before the value is read.
 */
const keys = `k1:${randomBytes(32).toString('base64')}`;
const [key] = parseAssertionKeys(keys);
const alex: Principal = { id: 'alex', displayName: 'Alex Approver', roles: ['approver'] };
/** A variable no worker has: a secret read from it would fail as "not set", so that message would mean it was read. */
const NEVER_SET = 'RUNBOOKS_SECRET_NEVER_SET_ON_ANY_WORKER';

let env: RestoreEnvironment;
let original: SecretDefinition;
beforeAll(async () => {
  env = await startRestoreEnvironment({ assertionKeys: keys });
  const catalog: { secrets: SecretDefinition[] } = JSON.parse(fs.readFileSync(env.secrets.config.catalogFile, 'utf8'));
  original = catalog.secrets.find((d) => d.name === RESTORE_SECRET) as SecretDefinition;
});
afterEach(() => env.secrets.define(original));
afterAll(() => env?.stop());

const server = () => env.api.server;
const ended = (status: string) => ['succeeded', 'succeeded_with_warnings', 'failed', 'rejected', 'cancelled'].includes(status);

async function approveThroughApi(runId: string): Promise<RunState> {
  await request(server()).post(`/v1/runs/${runId}/approvals/approve-restore`).set(auth('alex')).send({ decision: 'approve' }).expect(200);
  return eventually(
    async () => {
      const res = await request(server()).get(`/v1/runs/${runId}`).set(auth('tess'));
      return ended(res.body.status) ? (res.body as RunState) : undefined;
    },
    90_000,
    `${runId} to end`,
  );
}

/** Lets only admins use the restore password from now on, and moves it where reading it would fail. */
function restrictToAdmins(): void {
  env.secrets.define({ ...original, roles: ['admin'], source: { backend: 'env', variable: NEVER_SET } });
}

describe('the worker checks who may use a secret when the run resolves it', () => {
  it('lets a run the API launched for a technician open the repository the secret allows', async () => {
    const runId = await env.launchToApproval('tess');
    const state = await approveThroughApi(runId);
    expect(state.status).toBe('succeeded');
  });

  it('refuses, non-retryably and without reading it, a secret whose roles no longer include the launcher’s', async () => {
    const runId = await env.launchToApproval('tess');
    restrictToAdmins(); // after the API admitted the launch
    const state = await approveThroughApi(runId);

    expect(state.status).toBe('failed');
    const open = state.steps.find((s) => s.id === 'open-repository');
    expect(open).toMatchObject({ state: 'failed', attempts: 1, error: `secret ${RESTORE_SECRET} may be used only by admin` });
    expect(JSON.stringify(state)).not.toContain(NEVER_SET);
  });

  it('refuses a run started directly through Temporal, claiming an admin, without the API’s signature', async () => {
    const input = (await env.input()) as DataRestoreInput;
    const ada: Principal = { id: 'ada', displayName: 'Ada Admin', roles: ['admin'] };
    const args: RunbookStartArgs<DataRestoreInput> = { input, requestedBy: { id: 'ada', displayName: 'Ada Admin' }, principal: ada };
    const handle = await env.temporal.client.workflow.start('dataRestore', {
      taskQueue: env.api.taskQueue,
      workflowId: `data-restore-${randomUUID()}`,
      args: [args],
    });
    await eventually(
      async () => ((await handle.query(runStateQuery)).gates.find((g) => g.state === 'pending') ? true : undefined),
      60_000,
      'the approval gate to open',
    );
    // The approval itself is genuine (signed as the API would): only the launch is forged.
    const decision = { gateId: 'approve-restore', decision: 'approve' as const, comment: 'looks fine', principal: alex };
    await handle.executeUpdate(decideApprovalUpdate, {
      args: [{ ...decision, assertion: signAssertion(key, decideApprovalUpdate.name, alex, decision, new Date()) }],
    });
    await handle.result().catch(() => undefined);
    const state = await handle.query(runStateQuery);

    expect(state.status).toBe('failed');
    const open = state.steps.find((s) => s.id === 'open-repository');
    expect(open).toMatchObject({ state: 'failed', attempts: 1 });
    expect(open?.error).toBe(
      "the run may not use a secret: the run's launch is not vouched for by the API: the caller is not vouched for: the request carries no signed assertion (send it through the API)",
    );
  });
});
