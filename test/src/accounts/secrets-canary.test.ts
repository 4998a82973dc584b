import type { Client, Connection } from '@temporalio/client';
import {
  claimTaskUpdate,
  completeTaskUpdate,
  runStateQuery,
  type AccountJoinerInput,
  type PasswordResetInput,
  type RunState,
  type RunbookStartArgs,
} from '@runbooks/contracts';
import { redeemCredentialLink } from '@runbooks/activities';
import { randomUUID } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { historyText } from '../harness/history';
import { eventually, startTestWorker, testClient, type TestWorker } from '../harness/worker';
import { startAccountsFixture, tokenIn, type AccountsFixture } from './accounts-fixture';

/** Planted: the directory's bind password, which every activity resolves by reference. */
const CANARY_BIND_PASSWORD = `Canary-bind-${randomUUID()}`;

let client: Client;
let connection: Connection;
let fixture: AccountsFixture;
let worker: TestWorker;
const logged: string[] = [];
const writes = { out: process.stdout.write.bind(process.stdout), err: process.stderr.write.bind(process.stderr) };

beforeAll(async () => {
  // Everything the worker, its activities and the SDK print during the runs.
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => (
    logged.push(String(chunk)),
    writes.out(chunk, ...rest)
  )) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: never[]) => (
    logged.push(String(chunk)),
    writes.err(chunk, ...rest)
  )) as typeof process.stderr.write;
  fixture = await startAccountsFixture({ servicePassword: CANARY_BIND_PASSWORD });
  ({ client, connection } = await testClient());
  worker = await startTestWorker(fixture.workerOptions);
});

afterAll(async () => {
  process.stdout.write = writes.out;
  process.stderr.write = writes.err;
  await worker?.stop();
  await connection?.close();
  await fixture?.stop();
});

async function redeemLatest(subject: string) {
  const mail = fixture.smtp.messages.filter((m) => m.subject === subject).at(-1);
  if (!mail) throw new Error(`no mail ${subject}`);
  const token = tokenIn(mail.text.replace(/=\r?\n/g, ''));
  const redeemed = await redeemCredentialLink(fixture.repository, token);
  if (redeemed.state !== 'redeemed') throw new Error(redeemed.state);
  const totpSecret = redeemed.credentials.otpauthUri ? new URL(redeemed.credentials.otpauthUri).searchParams.get('secret') : null;
  return [redeemed.credentials.password, token, ...(totpSecret ? [totpSecret] : [])];
}

test('no password, TOTP secret, link token or bind password is in any workflow history, log, report, notification or the store in clear', async () => {
  const joinerArgs: RunbookStartArgs<AccountJoinerInput> = {
    input: {
      givenName: 'Canary',
      surname: 'Bird',
      department: 'Finance',
      manager: 'mmanager',
      role: 'analyst',
      deliverCredentialsTo: 'mona@example.test',
      approval: { timeoutSeconds: 600, escalationContact: 'it' },
    },
    requestedBy: { id: 'hr', displayName: 'HR' },
  };
  const joiner = await client.workflow.start('accountJoiner', {
    taskQueue: worker.taskQueue,
    workflowId: `account-joiner-${randomUUID()}`,
    args: [joinerArgs],
  });
  expect(((await joiner.result()) as RunState).status).toBe('succeeded');
  const joinerSecrets = await redeemLatest('Sign-in details for cbird');

  const resetArgs: RunbookStartArgs<PasswordResetInput> = {
    input: {
      username: 'cbird',
      deliverCredentialsTo: 'mona@example.test',
      resetMfa: false,
      slaSeconds: 3600,
      approval: { timeoutSeconds: 600, escalationContact: 'it' },
    },
    requestedBy: { id: 'fran', displayName: 'Fran' },
  };
  const reset = await client.workflow.start('passwordReset', {
    taskQueue: worker.taskQueue,
    workflowId: `password-reset-${randomUUID()}`,
    args: [resetArgs],
  });
  await eventually(async () => ((await reset.query(runStateQuery)).status === 'awaiting_task' ? true : undefined), 30_000, 'identity task');
  const fran = { id: 'fran', displayName: 'Fran', roles: ['tier1' as const] };
  await reset.executeUpdate(claimTaskUpdate, { args: [{ taskId: 'verify-identity', principal: fran }] });
  await reset.executeUpdate(completeTaskUpdate, {
    args: [
      {
        taskId: 'verify-identity',
        principal: fran,
        evidence: { method: 'in-person-with-photo-id', reference: 'passport, last digits 4411', callerIsAccountHolder: true },
      },
    ],
  });
  expect(((await reset.result()) as RunState).status).toBe('succeeded');
  const resetSecrets = await redeemLatest('Sign-in details for cbird');

  const secrets = [CANARY_BIND_PASSWORD, ...joinerSecrets, ...resetSecrets];
  expect(secrets).toHaveLength(6); // bind password; joiner password, token, TOTP secret; reset password, token
  const places: Record<string, string> = {
    'joiner history': historyText(await joiner.fetchHistory()),
    'reset history': historyText(await reset.fetchHistory()),
    logs: logged.join(''),
    // The database file and its write-ahead log, byte for byte.
    store: readdirSync(fixture.dir)
      .filter((f) => f.startsWith('store.sqlite'))
      .map((f) => readFileSync(path.join(fixture.dir, f)).toString('latin1'))
      .join(''),
  };
  for (const file of readdirSync(worker.reportsDir)) places[`report ${file}`] = readFileSync(path.join(worker.reportsDir, file), 'utf8');
  places.notifications = readdirSync(path.dirname(worker.reportsDir))
    .filter((f) => f.endsWith('.jsonl'))
    .map((f) => readFileSync(path.join(path.dirname(worker.reportsDir), f), 'utf8'))
    .join('');
  // The places hold the runs: the check would find a secret there if one leaked.
  expect(places['joiner history']).toContain('cbird');
  expect(places.store).toContain('cbird');
  expect(Object.keys(places).filter((p) => p.startsWith('report ')).length).toBeGreaterThanOrEqual(2);

  const leaks = Object.entries(places).flatMap(([place, text]) =>
    secrets.filter((s) => text.includes(s)).map((s) => `${place} holds ${s.slice(0, 6)}…`),
  );
  expect(leaks).toEqual([]);
});
