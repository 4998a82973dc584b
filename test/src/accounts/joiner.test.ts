import type { Client, Connection, WorkflowHandle } from '@temporalio/client';
import {
  decideApprovalUpdate,
  runStateQuery,
  type AccountJoinerInput,
  type Principal,
  type RunState,
  type RunbookStartArgs,
} from '@runbooks/contracts';
import { LdapDirectory, TotpVerifier, parseSealKey, redeemCredentialLink, SecretResolver } from '@runbooks/activities';
import { ApplicationFailure } from '@temporalio/common';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { authenticator } from 'otplib';
import { ACCOUNTS_SEED, TEST_DIRECTORY } from '../../../activities/src/test-support/slapd';
import { eventually, startTestWorker, testClient, type TestWorker } from '../harness/worker';
import { startAccountsFixture, tokenIn, type AccountsFixture } from './accounts-fixture';

const alex: Principal = { id: 'alex', displayName: 'Alex Approver', roles: ['approver'] };

let client: Client;
let connection: Connection;
let fixture: AccountsFixture;
let worker: TestWorker;
let failingWorker: TestWorker;
let directory: LdapDirectory;
let verifier: TotpVerifier;

beforeAll(async () => {
  fixture = await startAccountsFixture();
  ({ client, connection } = await testClient());
  const common = fixture.workerOptions;
  worker = await startTestWorker(common);
  // A worker whose mailbox step fails for good, after the home drive is made: the run must undo everything.
  failingWorker = await startTestWorker({
    ...common,
    overrideActivities: () => ({
      setUpMailbox: async () => {
        throw ApplicationFailure.nonRetryable('the mail host refused the Maildir (injected)', 'InjectedFault');
      },
    }),
  });
  const secrets = new SecretResolver(fixture.secrets.config);
  directory = new LdapDirectory(fixture.accounts.directory, secrets);
  verifier = new TotpVerifier(fixture.repository, async () => parseSealKey(await secrets.resolve(fixture.accounts.verifierKeyRef)));
});

afterAll(async () => {
  await worker?.stop();
  await failingWorker?.stop();
  await connection?.close();
  await fixture?.stop();
});

async function launch(overrides: Partial<AccountJoinerInput>, on: TestWorker = worker): Promise<WorkflowHandle> {
  const input: AccountJoinerInput = {
    givenName: 'Ada',
    surname: 'Lovelace',
    department: 'Finance',
    manager: 'mmanager',
    role: 'analyst',
    deliverCredentialsTo: 'mona@example.test',
    approval: { timeoutSeconds: 600, escalationContact: 'it-2nd-line' },
    ...overrides,
  };
  const args: RunbookStartArgs<AccountJoinerInput> = { input, requestedBy: { id: 'hr-helen', displayName: 'Helen HR' } };
  return client.workflow.start('accountJoiner', { taskQueue: on.taskQueue, workflowId: `account-joiner-${randomUUID()}`, args: [args] });
}

const mailsTo = (address: string) => fixture.smtp.messages.filter((m) => m.to.includes(address));

describe('account joiner on a real slapd, SMTP receiver and file server folder', () => {
  test('makes a working account end to end: a colliding username gets the next suffix, and the credentials reach the person once', async () => {
    // Someone took alovelace by hand before.
    fixture.slapd.add(
      `dn: uid=alovelace,${TEST_DIRECTORY.peopleBase}\nobjectClass: inetOrgPerson\nobjectClass: posixAccount\nuid: alovelace\ncn: Another Lovelace\nsn: Lovelace\nuidNumber: 1600\ngidNumber: 10000\nhomeDirectory: /home/alovelace\n`,
    );
    const handle = await launch({ ticket: 'HR-1001' });
    const state = (await handle.result()) as RunState;

    expect(state.status).toBe('succeeded');
    expect(state.outcome).toMatchObject({ username: 'alovelace2', role: 'analyst', credentialsSentTo: 'mona@example.test' });
    expect(state.steps.find((s) => s.id === 'choose-username')?.details).toMatchObject({ username: 'alovelace2', taken: ['alovelace'] });
    expect(state.steps.find((s) => s.id === 'approve-privileged-role')?.state).toBe('skipped');

    // The directory entry, its groups and permissions.
    const person = await directory.findPerson('alovelace2');
    expect(person).toMatchObject({
      cn: 'Ada Lovelace',
      mail: 'alovelace2@example.test',
      departmentNumber: 'Finance',
      gidNumber: TEST_DIRECTORY.usersGidNumber,
    });
    expect(person?.manager).toBe(`uid=mmanager,${TEST_DIRECTORY.peopleBase}`);
    expect(person?.uidNumber).toBeGreaterThanOrEqual(TEST_DIRECTORY.firstUidNumber);
    expect(await directory.groupsOf('alovelace2')).toEqual(['finance', 'staff']);
    expect(await directory.permissionsOf('alovelace2')).toEqual(['crm:read', 'ledger:write']);
    expect(await directory.passwordState('alovelace2')).toMatchObject({ mustChange: true, locked: false });

    // The home drive: a real folder owned by the new uid, 0700, with the role's ACL group.
    const home = path.join(fixture.accounts.fileServer.homeRoot, 'alovelace2');
    expect(person?.homeDirectory).toBe(home);
    const stat = statSync(home);
    expect(stat.uid).toBe(person?.uidNumber);
    expect(stat.gid).toBe(TEST_DIRECTORY.usersGidNumber);
    if (existsSync('/usr/bin/getfacl')) {
      const acl = execFileSync('getfacl', ['-pn', home], { encoding: 'utf8' });
      expect(acl).toContain(`group:${ACCOUNTS_SEED.groups.finance}:rwx`);
      expect(acl).toMatch(/^other::---$/m);
      expect(acl).toMatch(/^user::rwx$/m);
    } else {
      expect(stat.mode & 0o777).toBe(0o700);
    }
    // The Maildir, and the welcome message over SMTP.
    for (const sub of ['cur', 'new', 'tmp'])
      expect(statSync(path.join(fixture.accounts.mail.maildirRoot, 'alovelace2', sub)).uid).toBe(person?.uidNumber);
    expect(mailsTo('alovelace2@example.test').map((m) => m.subject)).toEqual(['Welcome, Ada Lovelace']);

    // The one-time link went to the manager; it opens once.
    const [linkMail] = mailsTo('mona@example.test').filter((m) => m.subject === 'Sign-in details for alovelace2');
    const token = tokenIn(linkMail.text.replace(/=\r?\n/g, ''));
    const redeemed = await redeemCredentialLink(fixture.repository, token);
    if (redeemed.state !== 'redeemed') throw new Error(`link not redeemable: ${redeemed.state}`);
    expect(redeemed.credentials.username).toBe('alovelace2');
    expect(await redeemCredentialLink(fixture.repository, token)).toEqual({ state: 'used' });
    // The password binds; the TOTP secret of the otpauth URI gives codes the verifier accepts.
    expect(await directory.bindAs('alovelace2', redeemed.credentials.password)).toBe('ok');
    const secret = new URL(redeemed.credentials.otpauthUri ?? '').searchParams.get('secret') ?? '';
    expect(await verifier.verify('alovelace2', authenticator.generate(secret))).toBe(true);
    expect(await verifier.verify('alovelace2', '000000' === authenticator.generate(secret) ? '111111' : '000000')).toBe(false);

    // Nothing secret in the run's state or its report.
    const report = readFileSync(path.join(worker.reportsDir, `${handle.workflowId}.md`), 'utf8');
    for (const text of [JSON.stringify(state), report]) {
      expect(text).not.toContain(redeemed.credentials.password);
      expect(text).not.toContain(secret);
      expect(text).not.toContain(token);
    }
    expect(report).toContain('mode 0700');
    expect(report).toContain('alovelace2@example.test');
  });

  test('a role with privileged groups waits for an approver before anything is made, then joins the groups', async () => {
    const handle = await launch({ givenName: 'Grace', surname: 'Hopper', role: 'sysadmin' });
    await eventually(
      async () => ((await handle.query(runStateQuery)).status === 'awaiting_approval' ? true : undefined),
      30_000,
      'approval gate',
    );
    expect(await directory.findPerson('ghopper')).toBeUndefined();

    await handle.executeUpdate(decideApprovalUpdate, {
      args: [{ gateId: 'approve-privileged-role', decision: 'approve', comment: 'on-call admin, per HR-1002', principal: alex }],
    });
    const state = (await handle.result()) as RunState;
    expect(state.status).toBe('succeeded');
    expect(await directory.groupsOf('ghopper')).toEqual(['staff', 'wheel']);
  });

  test('a joiner failing after the home drive is undone: no entry, groups, home drive, MFA secret or usable link left', async () => {
    const handle = await launch({ givenName: 'Half', surname: 'Finished' }, failingWorker);
    const error = await handle.result().catch((e: unknown) => e);
    expect(error).toBeDefined();
    const state = await handle.query(runStateQuery);

    expect(state.status).toBe('failed');
    expect(state.steps.find((s) => s.id === 'create-home-drive')?.state).toBe('compensated');
    expect(state.compensations.map((c) => [c.stepId, c.state])).toEqual([
      ['create-entry', 'done'],
      ['issue-credentials', 'done'],
      ['grant-role-access', 'done'],
      ['create-home-drive', 'done'],
      // Registered before the step ran: a Maildir half made by the failed step goes too.
      ['set-up-mailbox', 'done'],
    ]);
    expect(await directory.findPerson('hfinished')).toBeUndefined();
    expect(await directory.groupsOf('hfinished')).toEqual([]);
    expect(await directory.permissionsOf('hfinished')).toEqual([]);
    expect(existsSync(path.join(fixture.accounts.fileServer.homeRoot, 'hfinished'))).toBe(false);
    expect(await fixture.repository.mfaSecret('hfinished')).toBeUndefined();
    const linkId = state.steps.find((s) => s.id === 'issue-credentials')?.details?.linkId as string;
    expect(await fixture.repository.pendingOf(linkId)).toBeUndefined();
    expect(mailsTo('hfinished@example.test')).toEqual([]);
  });
});
