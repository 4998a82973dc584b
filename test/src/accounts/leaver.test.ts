import type { Client, Connection, WorkflowHandle } from '@temporalio/client';
import {
  decideApprovalUpdate,
  runStateQuery,
  type AccountJoinerInput,
  type AccountLeaverInput,
  type RunState,
  type RunbookStartArgs,
} from '@runbooks/contracts';
import { LdapDirectory, SecretResolver } from '@runbooks/activities';
import { execFileSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { eventually, startTestWorker, testClient, type TestWorker } from '../harness/worker';
import { startAccountsFixture, type AccountsFixture } from './accounts-fixture';

let client: Client;
let connection: Connection;
let fixture: AccountsFixture;
let worker: TestWorker;
let directory: LdapDirectory;

beforeAll(async () => {
  fixture = await startAccountsFixture();
  ({ client, connection } = await testClient());
  worker = await startTestWorker(fixture.workerOptions);
  directory = new LdapDirectory(fixture.accounts.directory, new SecretResolver(fixture.secrets.config));
});

afterAll(async () => {
  await worker?.stop();
  await connection?.close();
  await fixture?.stop();
});

/** A person made by the joiner runbook, with a file in their home drive. */
async function joined(givenName: string, surname: string): Promise<string> {
  const input: AccountJoinerInput = {
    givenName,
    surname,
    department: 'Finance',
    manager: 'mmanager',
    role: 'analyst',
    deliverCredentialsTo: 'mona@example.test',
    approval: { timeoutSeconds: 600, escalationContact: 'it' },
  };
  const args: RunbookStartArgs<AccountJoinerInput> = { input, requestedBy: { id: 'hr', displayName: 'HR' } };
  const state = (await client.workflow.execute('accountJoiner', {
    taskQueue: worker.taskQueue,
    workflowId: `account-joiner-${randomUUID()}`,
    args: [args],
  })) as RunState;
  const username = state.outcome?.username as string;
  writeFileSync(path.join(fixture.accounts.fileServer.homeRoot, username, 'budget.xlsx'), 'the 2027 budget');
  return username;
}

async function leave(input: Partial<AccountLeaverInput> & { username: string }): Promise<WorkflowHandle> {
  const args: RunbookStartArgs<AccountLeaverInput> = {
    input: { dismissal: false, forwardDays: 0, retentionDays: 0, approval: { timeoutSeconds: 600, escalationContact: 'it' }, ...input },
    requestedBy: { id: 'hr', displayName: 'HR' },
  };
  return client.workflow.start('accountLeaver', {
    taskQueue: worker.taskQueue,
    workflowId: `account-leaver-${randomUUID()}`,
    args: [args],
  });
}

describe('account leaver on a real slapd and file server folders', () => {
  test('removes every access, archives the home drive with its sha256, and after retention leaves nothing behind', async () => {
    const username = await joined('Lea', 'Vingdays');
    expect(await directory.groupsOf(username)).toEqual(['finance', 'staff']);

    const handle = await leave({ username, ticket: 'HR-2001' });
    const state = (await handle.result()) as RunState;

    expect(state.status).toBe('succeeded');
    expect(state.outcome).toMatchObject({
      groupsRemoved: ['finance', 'staff'],
      permissionsRevoked: ['crm:read', 'ledger:write'],
      deleted: true,
    });
    // The archive is real: its sha256 is what the report says, and it holds the home drive's file.
    const archive = state.outcome?.homeArchive as string;
    expect(createHash('sha256').update(readFileSync(archive)).digest('hex')).toBe(state.outcome?.homeArchiveSha256);
    const out = mkdtempSync(path.join(os.tmpdir(), 'leaver-archive-'));
    execFileSync('tar', ['-xzf', archive, '-C', out]);
    expect(readFileSync(path.join(out, username, 'budget.xlsx'), 'utf8')).toBe('the 2027 budget');
    // Nothing left: entry, groups, permissions, home drive, Maildir, TOTP secret.
    expect(await directory.findPerson(username)).toBeUndefined();
    expect(await directory.groupsOf(username)).toEqual([]);
    expect(await directory.permissionsOf(username)).toEqual([]);
    expect(existsSync(path.join(fixture.accounts.fileServer.homeRoot, username))).toBe(false);
    expect(existsSync(path.join(fixture.accounts.mail.maildirRoot, username))).toBe(false);
    expect(await fixture.repository.mfaSecret(username)).toBeUndefined();
    const report = readFileSync(path.join(worker.reportsDir, `${handle.workflowId}.md`), 'utf8');
    expect(report).toContain('removed from groups finance, staff');
    expect(report).toContain('permissions revoked crm:read, ledger:write');
    expect(report).toContain('nothing left');
  });

  test('during the retention period the account stays locked with mail forwarded to the manager; a cancel keeps it so and deletes nothing', async () => {
    const username = await joined('Hold', 'Legal');
    const handle = await leave({ username, forwardDays: 30, retentionDays: 90 });
    await eventually(
      async () =>
        (await handle.query(runStateQuery)).steps.find((s) => s.id === 'wait-retention')?.state === 'running' ? true : undefined,
      30_000,
      'retention wait',
    );
    expect(await directory.passwordState(username)).toMatchObject({ locked: true });
    expect(await directory.groupsOf(username)).toEqual([]);
    expect(readFileSync(path.join(fixture.accounts.mail.maildirRoot, username, '.forward'), 'utf8').trim()).toBe('mona@example.test');

    await handle.cancel();
    const state = await eventually(async () => {
      const s = await handle.query(runStateQuery);
      return s.status === 'cancelled' ? s : undefined;
    });
    expect(state.steps.find((s) => s.id === 'delete-account')?.state).toBe('skipped');
    expect(await directory.findPerson(username)).toBeDefined();
    expect(await directory.passwordState(username)).toMatchObject({ locked: true });
  });

  test('a dismissal ends access only once an approver agrees, then at once', async () => {
    const username = await joined('Dis', 'Missed');
    const handle = await leave({ username, dismissal: true, retentionDays: 90 });
    await eventually(
      async () => ((await handle.query(runStateQuery)).status === 'awaiting_approval' ? true : undefined),
      30_000,
      'dismissal gate',
    );
    expect(await directory.passwordState(username)).toMatchObject({ locked: false });
    expect(await directory.groupsOf(username)).toEqual(['finance', 'staff']);

    await handle.executeUpdate(decideApprovalUpdate, {
      args: [
        {
          gateId: 'approve-dismissal',
          decision: 'approve',
          comment: 'HR-2003',
          principal: { id: 'alex', displayName: 'Alex Approver', roles: ['approver'] },
        },
      ],
    });
    await eventually(
      async () =>
        (await handle.query(runStateQuery)).steps.find((s) => s.id === 'wait-retention')?.state === 'running' ? true : undefined,
      30_000,
      'retention wait',
    );
    expect(await directory.passwordState(username)).toMatchObject({ locked: true });
    expect(await directory.groupsOf(username)).toEqual([]);
    expect(await directory.permissionsOf(username)).toEqual([]);
    await handle.cancel();
  });
});
