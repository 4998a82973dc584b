import type { Client, Connection, WorkflowHandle } from '@temporalio/client';
import {
  decideApprovalUpdate,
  runStateQuery,
  type AccountMoverInput,
  type Principal,
  type RunState,
  type RunbookStartArgs,
} from '@runbooks/contracts';
import { LdapDirectory, SecretResolver } from '@runbooks/activities';
import { ApplicationFailure } from '@temporalio/common';
import { randomUUID } from 'node:crypto';
import { TEST_DIRECTORY } from '../../../activities/src/test-support/slapd';
import { eventually, startTestWorker, testClient, type TestWorker } from '../harness/worker';
import { startAccountsFixture, type AccountsFixture } from './accounts-fixture';

const alex: Principal = { id: 'alex', displayName: 'Alex Approver', roles: ['approver'] };

let client: Client;
let connection: Connection;
let fixture: AccountsFixture;
let worker: TestWorker;
let failingWorker: TestWorker;
let directory: LdapDirectory;

beforeAll(async () => {
  fixture = await startAccountsFixture();
  ({ client, connection } = await testClient());
  const common = fixture.workerOptions;
  worker = await startTestWorker(common);
  // Applies the move, then reports a failure: the run must put the old access back.
  failingWorker = await startTestWorker({
    ...common,
    overrideActivities: (real) => ({
      applyAccessChange: async (input) => {
        const result = await real.applyAccessChange(input);
        if (input.department) throw ApplicationFailure.nonRetryable('the directory replica went away (injected)', 'InjectedFault');
        return result;
      },
    }),
  });
  directory = new LdapDirectory(fixture.accounts.directory, new SecretResolver(fixture.secrets.config));
});

afterAll(async () => {
  await worker?.stop();
  await failingWorker?.stop();
  await connection?.close();
  await fixture?.stop();
});

/** An analyst (groups staff, finance; permissions crm:read, ledger:write) who also got the group wheel by hand. */
async function analyst(uid: string, uidNumber: number): Promise<void> {
  fixture.slapd.add(
    `dn: uid=${uid},${TEST_DIRECTORY.peopleBase}\nobjectClass: inetOrgPerson\nobjectClass: posixAccount\nuid: ${uid}\ncn: Mo Ver\nsn: Ver\nuidNumber: ${uidNumber}\ngidNumber: 10000\nhomeDirectory: /home/${uid}\n`,
  );
  for (const g of ['staff', 'finance']) await directory.addToGroup(g, uid);
  for (const p of ['crm:read', 'ledger:write']) await directory.grantPermission(p, uid);
}

async function move(input: Partial<AccountMoverInput> & { username: string }, on = worker): Promise<WorkflowHandle> {
  const args: RunbookStartArgs<AccountMoverInput> = {
    input: { fromRole: 'analyst', toRole: 'sysadmin', approval: { timeoutSeconds: 600, escalationContact: 'it' }, ...input },
    requestedBy: { id: 'hr', displayName: 'HR' },
  };
  return client.workflow.start('accountMover', { taskQueue: on.taskQueue, workflowId: `account-mover-${randomUUID()}`, args: [args] });
}

/** The run's state once it waits at its approval gate. */
function awaitingApproval(handle: WorkflowHandle): Promise<RunState> {
  return eventually(async () => {
    const s = await handle.query(runStateQuery);
    return s.status === 'awaiting_approval' ? s : undefined;
  }, 30_000);
}

async function approve(handle: WorkflowHandle): Promise<void> {
  await handle.executeUpdate(decideApprovalUpdate, {
    args: [{ gateId: 'approve-move', decision: 'approve', comment: 'new job', principal: alex }],
  });
}

async function approveWhenAsked(handle: WorkflowHandle): Promise<RunState> {
  const waiting = await awaitingApproval(handle);
  await approve(handle);
  return waiting;
}

describe('account mover on a real slapd', () => {
  test('the approver sees the group and permission diff; once approved it is applied and the person holds exactly the new role', async () => {
    await analyst('mover', 4001);
    const handle = await move({ username: 'mover', department: 'IT' });
    const waiting = await awaitingApproval(handle);
    expect(waiting.gates[0].title).toBe('Move mover from analyst to sysadmin: +groups wheel; -groups finance; -permissions ledger:write');
    // Read while the run waits: once approved, the change may land before a read after the answer.
    expect(await directory.groupsOf('mover')).toEqual(['finance', 'staff']); // nothing changed before the approval
    await approve(handle);

    const state = (await handle.result()) as RunState;
    expect(state.status).toBe('succeeded');
    expect(await directory.groupsOf('mover')).toEqual(['staff', 'wheel']);
    expect(await directory.permissionsOf('mover')).toEqual(['crm:read']);
    expect((await directory.findPerson('mover'))?.departmentNumber).toBe('IT');
  });

  test('a move failing after its changes puts the old access back', async () => {
    await analyst('unmoved', 4002);
    const handle = await move({ username: 'unmoved', department: 'IT' }, failingWorker);
    await approveWhenAsked(handle);
    await handle.result().catch(() => undefined);
    const state = await handle.query(runStateQuery);

    expect(state.status).toBe('failed');
    expect(state.compensations).toEqual([expect.objectContaining({ stepId: 'apply-move', state: 'done' })]);
    expect(await directory.groupsOf('unmoved')).toEqual(['finance', 'staff']);
    expect(await directory.permissionsOf('unmoved')).toEqual(['crm:read', 'ledger:write']);
  });
});
