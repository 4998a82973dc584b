import type { Client, Connection, WorkflowHandle } from '@temporalio/client';
import {
  claimTaskUpdate,
  completeTaskUpdate,
  decideApprovalUpdate,
  runStateQuery,
  type PasswordResetInput,
  type Principal,
  type RunState,
  type RunbookStartArgs,
} from '@runbooks/contracts';
import { LdapDirectory, SecretResolver, TotpVerifier, parseSealKey, redeemCredentialLink } from '@runbooks/activities';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { authenticator } from 'otplib';
import { TEST_DIRECTORY } from '../../../activities/src/test-support/slapd';
import { eventually, startTestWorker, testClient, type TestWorker } from '../harness/worker';
import { startAccountsFixture, tokenIn, type AccountsFixture } from './accounts-fixture';

const fran: Principal = { id: 'fran', displayName: 'Fran First-Line', roles: ['tier1'] };
const alex: Principal = { id: 'alex', displayName: 'Alex Approver', roles: ['approver'] };
const OLD_PASSWORD = 'Forgotten-old-pass-42';
const identity = {
  method: 'callback-to-number-on-file',
  reference: 'called back +44 20 7946 0000 from the HR record',
  callerIsAccountHolder: true,
};

let client: Client;
let connection: Connection;
let fixture: AccountsFixture;
let worker: TestWorker;
let directory: LdapDirectory;
let verifier: TotpVerifier;

beforeAll(async () => {
  fixture = await startAccountsFixture();
  ({ client, connection } = await testClient());
  worker = await startTestWorker(fixture.workerOptions);
  const secrets = new SecretResolver(fixture.secrets.config);
  directory = new LdapDirectory(fixture.accounts.directory, secrets);
  verifier = new TotpVerifier(fixture.repository, async () => parseSealKey(await secrets.resolve(fixture.accounts.verifierKeyRef)));
});

afterAll(async () => {
  await worker?.stop();
  await connection?.close();
  await fixture?.stop();
});

/** A person with a password, locked out by failed logins. */
async function lockedOutPerson(uid: string, uidNumber: number): Promise<void> {
  fixture.slapd.add(
    `dn: uid=${uid},${TEST_DIRECTORY.peopleBase}\nobjectClass: inetOrgPerson\nobjectClass: posixAccount\nuid: ${uid}\ncn: Bob Locked\nsn: Locked\nmail: ${uid}@example.test\nuidNumber: ${uidNumber}\ngidNumber: 10000\nhomeDirectory: /home/${uid}\n`,
  );
  await directory.setPassword(uid, OLD_PASSWORD);
  for (let i = 0; i < TEST_DIRECTORY.maxFailures; i++) await directory.bindAs(uid, `wrong-guess-${i}-xx`);
  expect(await directory.passwordState(uid)).toMatchObject({ locked: true });
}

async function launch(input: Partial<PasswordResetInput> & { username: string }): Promise<WorkflowHandle> {
  const args: RunbookStartArgs<PasswordResetInput> = {
    input: {
      deliverCredentialsTo: 'mona@example.test',
      resetMfa: false,
      slaSeconds: 3600,
      approval: { timeoutSeconds: 600, escalationContact: 'it-2nd-line' },
      ...input,
    },
    requestedBy: { id: 'fran', displayName: 'Fran First-Line' },
  };
  return client.workflow.start('passwordReset', {
    taskQueue: worker.taskQueue,
    workflowId: `password-reset-${randomUUID()}`,
    args: [args],
  });
}

async function verifyIdentity(handle: WorkflowHandle): Promise<void> {
  await eventually(
    async () => ((await handle.query(runStateQuery)).status === 'awaiting_task' ? true : undefined),
    30_000,
    'identity task',
  );
  await handle.executeUpdate(claimTaskUpdate, { args: [{ taskId: 'verify-identity', principal: fran }] });
  await handle.executeUpdate(completeTaskUpdate, { args: [{ taskId: 'verify-identity', principal: fran, evidence: identity }] });
}

async function redeemLinkMailedFor(username: string) {
  const mail = fixture.smtp.messages.filter((m) => m.subject === `Sign-in details for ${username}`).at(-1);
  if (!mail) throw new Error(`no credentials mail for ${username}`);
  const redeemed = await redeemCredentialLink(fixture.repository, tokenIn(mail.text.replace(/=\r?\n/g, '')));
  if (redeemed.state !== 'redeemed') throw new Error(`link not redeemable: ${redeemed.state}`);
  return redeemed.credentials;
}

describe('password reset on a real slapd', () => {
  test('nothing changes until the 1st line verified the caller; then the lockout is cleared, a temporary password must be changed, and the holder is told', async () => {
    await lockedOutPerson('blocked', 3001);
    const handle = await launch({ username: 'blocked', ticket: 'SD-77' });
    await eventually(
      async () => ((await handle.query(runStateQuery)).status === 'awaiting_task' ? true : undefined),
      30_000,
      'identity task',
    );
    expect(await directory.passwordState('blocked')).toMatchObject({ locked: true });

    await verifyIdentity(handle);
    const state = (await handle.result()) as RunState;

    expect(state.status).toBe('succeeded');
    expect(state.outcome).toMatchObject({ username: 'blocked', lockoutCleared: true, identityVerifiedBy: 'callback-to-number-on-file' });
    expect(state.steps.find((s) => s.id === 'verify-identity')).toMatchObject({ state: 'succeeded', details: identity });
    expect(await directory.passwordState('blocked')).toMatchObject({ locked: false, mustChange: true });
    expect(await directory.bindAs('blocked', OLD_PASSWORD)).toBe('invalid-credentials');

    const credentials = await redeemLinkMailedFor('blocked');
    expect(credentials.otpauthUri).toBeUndefined();
    expect(await directory.bindAs('blocked', credentials.password)).toBe('ok');
    const told = fixture.smtp.messages.filter((m) => m.to.includes('blocked@example.test'));
    expect(told.map((m) => m.subject)).toEqual(['Your password was reset']);
    expect(told[0].text).toContain('SD-77');

    const report = readFileSync(path.join(worker.reportsDir, `${handle.workflowId}.md`), 'utf8');
    expect(report).toContain('callback-to-number-on-file');
    expect(report).toContain('lockout cleared');
    expect(report).not.toContain(credentials.password);
    expect(JSON.stringify(state)).not.toContain(credentials.password);
  });

  test('a TOTP reset waits for an approver, then the link carries a new enrolment whose codes verify', async () => {
    await lockedOutPerson('lostphone', 3002);
    const handle = await launch({ username: 'lostphone', resetMfa: true });
    await verifyIdentity(handle);
    await eventually(
      async () => ((await handle.query(runStateQuery)).status === 'awaiting_approval' ? true : undefined),
      30_000,
      'approval',
    );
    expect(await directory.passwordState('lostphone')).toMatchObject({ locked: true });

    await handle.executeUpdate(decideApprovalUpdate, {
      args: [{ gateId: 'approve-mfa-reset', decision: 'approve', comment: 'phone lost, SD-78', principal: alex }],
    });
    expect(((await handle.result()) as RunState).outcome).toMatchObject({ mfaReenrolled: true });

    const credentials = await redeemLinkMailedFor('lostphone');
    const secret = new URL(credentials.otpauthUri ?? '').searchParams.get('secret') ?? '';
    expect(await verifier.verify('lostphone', authenticator.generate(secret))).toBe(true);
  });
});
