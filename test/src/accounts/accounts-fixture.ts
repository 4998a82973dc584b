import type { Host } from '@runbooks/contracts';
import { SmtpMailer, type AccountsConfig } from '@runbooks/activities';
import { AccountsRepository, Store } from '@runbooks/store';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { TestSecrets } from '../../../activities/src/test-support/secrets';
import { ACCOUNTS_SEED, seedAccountsDirectory, startSlapd, TEST_DIRECTORY, type Slapd } from '../../../activities/src/test-support/slapd';
import { startSmtpReceiver, type SmtpReceiver } from '../../../activities/src/test-support/smtp-receiver';

const BIND_VARIABLE = 'RUNBOOKS_SECRET_ACCOUNTS_TEST_LDAP';
const VERIFIER_VARIABLE = 'RUNBOOKS_SECRET_ACCOUNTS_TEST_VERIFIER';
/** The runbooks the fixture's secrets are defined for. */
const ACCOUNT_RUNBOOKS = ['account-joiner', 'password-reset', 'account-leaver', 'account-mover'];

export interface AccountsFixture {
  slapd: Slapd;
  smtp: SmtpReceiver;
  secrets: TestSecrets;
  store: Store;
  accounts: AccountsConfig;
  repository: AccountsRepository;
  mailer: SmtpMailer;
  /** What a test worker needs to run the account runbooks against this fixture (startTestWorker's options). */
  workerOptions: { store: Store; secrets: TestSecrets['config']; accounts: AccountsConfig; mailer: SmtpMailer };
  dir: string;
  stop(): Promise<void>;
}

/**
 * What the account runbooks act on, all real and local: slapd with the test directory (groups,
 * application permissions, a manager), an SMTP receiver, a home root and a Maildir root on the
 * worker's own machine (the local host driver), the role catalogue and the two secrets (the
 * directory's bind password and the verifier's key), and a SQLite store the worker shares.
 */
export async function startAccountsFixture(options: { servicePassword?: string } = {}): Promise<AccountsFixture> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'runbooks-accounts-'));
  // Home drives are reached by their owners: the folders above them must be traversable.
  chmodSync(dir, 0o755);
  const slapd = await startSlapd({ servicePassword: options.servicePassword });
  const smtp = await startSmtpReceiver();
  const secrets = new TestSecrets([
    { name: 'accounts/ldap', source: { backend: 'env', variable: BIND_VARIABLE }, runbooks: ACCOUNT_RUNBOOKS, roles: [] },
    { name: 'accounts/verifier', source: { backend: 'env', variable: VERIFIER_VARIABLE }, runbooks: ACCOUNT_RUNBOOKS, roles: [] },
  ]);
  process.env[BIND_VARIABLE] = slapd.servicePassword;
  process.env[VERIFIER_VARIABLE] = randomBytes(32).toString('base64');
  const d = TEST_DIRECTORY;
  seedAccountsDirectory(slapd);
  const rolesFile = path.join(dir, 'roles.json');
  writeFileSync(rolesFile, JSON.stringify(ACCOUNTS_SEED.roles));
  for (const sub of ['home', 'mail']) mkdirSync(path.join(dir, sub), { mode: 0o755 });
  const localHost = (name: string): Host => ({ name, address: '127.0.0.1', osFamily: 'debian', tags: [], driver: 'local' });
  const accounts: AccountsConfig = {
    directory: {
      url: slapd.url,
      bindDn: d.serviceDn,
      bindPasswordRef: 'secret:accounts/ldap',
      peopleBase: d.peopleBase,
      groupsBase: d.groupsBase,
      applicationsBase: d.applicationsBase,
      uidCounterDn: d.uidCounterDn,
      usersGidNumber: d.usersGidNumber,
    },
    rolesFile,
    fileServer: { host: localHost('files-01'), homeRoot: path.join(dir, 'home'), archiveRoot: path.join(dir, 'archives') },
    mail: { host: localHost('mail-01'), maildirRoot: path.join(dir, 'mail'), domain: 'example.test' },
    verifierKeyRef: 'secret:accounts/verifier',
    mfaIssuer: 'Example IT',
    linkBaseUrl: 'http://127.0.0.1:3000/v1/credential-links/redeem',
    linkTtlSeconds: 3600,
  };
  const store = Store.open({ kind: 'sqlite', file: path.join(dir, 'store.sqlite') });
  const mailer = new SmtpMailer({ host: smtp.host, port: smtp.port, from: 'it@example.test' });
  return {
    slapd,
    smtp,
    secrets,
    store,
    accounts,
    repository: new AccountsRepository(store),
    mailer,
    workerOptions: { store, secrets: secrets.config, accounts, mailer },
    dir,
    async stop() {
      await smtp.stop();
      await slapd.stop();
      await store.close();
      secrets.remove();
      delete process.env[BIND_VARIABLE];
      delete process.env[VERIFIER_VARIABLE];
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The link token in a credentials mail (after `#`). */
export function tokenIn(text: string): string {
  const match = /#([A-Za-z0-9_-]{43})/.exec(text);
  if (!match) throw new Error(`no credential link in: ${text}`);
  return match[1];
}
