import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ACCOUNTS_SEED, seedAccountsDirectory, slapdMissing, startSlapd, startSmtpReceiver, TEST_DIRECTORY } from '@runbooks/activities';
import type { SecretCatalogContent } from '@runbooks/contracts';

const ACCOUNT_RUNBOOKS = ['account-joiner', 'password-reset', 'account-leaver', 'account-mover'];

/**
 * The account runbooks' demo for `npm start`: a local slapd (a fresh directory on each start,
 * under <data>/ldap) with groups, application permissions and a manager, a mail catcher that
 * writes every message to <data>/demo/mail/, the role catalogue, the two secrets (bind password,
 * verifier key) as files under <data>/secrets, and <data>/demo/accounts.env for the worker.
 * Runs until SIGTERM or SIGINT, then stops slapd and the mail catcher.
 */
async function main(dataDir: string): Promise<void> {
  const missing = slapdMissing();
  if (missing) throw new Error(missing);
  const ldapDir = path.join(dataDir, 'ldap');
  await fs.rm(ldapDir, { recursive: true, force: true });
  await fs.mkdir(ldapDir, { recursive: true });
  const slapd = await startSlapd({ dir: ldapDir, servicePassword: randomBytes(18).toString('base64url') });
  const d = TEST_DIRECTORY;
  seedAccountsDirectory(slapd);

  const mailDir = path.join(dataDir, 'demo', 'mail');
  await fs.mkdir(mailDir, { recursive: true });
  let count = (await fs.readdir(mailDir)).length;
  const smtp = await startSmtpReceiver({
    onMessage: (m) => {
      count += 1;
      const name = `${String(count).padStart(3, '0')}-${m.to.join('_').replace(/[^A-Za-z0-9@._-]/g, '_')}.eml`;
      void fs.writeFile(path.join(mailDir, name), m.raw, { mode: 0o600 });
    },
  });

  await fs.writeFile(path.join(dataDir, 'account-roles.json'), `${JSON.stringify(ACCOUNTS_SEED.roles, null, 2)}\n`);
  await defineSecret(dataDir, 'accounts/ldap-demo', slapd.servicePassword, 'Demo only: the demo directory service account password');
  await defineSecret(
    dataDir,
    'accounts/verifier-demo',
    randomBytes(32).toString('base64'),
    'Demo only: seals TOTP secrets and unsent links',
    false,
  );
  // Home drives and Maildirs are reached by their new owners' uids: a folder every uid can traverse
  // (the data folder may sit in a private home), like a file server's /srv/home.
  const accountsRoot = path.join(os.tmpdir(), `runbooks-demo-accounts-${createHash('sha256').update(dataDir).digest('hex').slice(0, 8)}`);
  // The directory is fresh on each start: so are the home drives and Maildirs of its people.
  for (const sub of ['home', 'mail']) await fs.rm(path.join(accountsRoot, sub), { recursive: true, force: true });
  await fs.mkdir(accountsRoot, { recursive: true });
  await fs.chmod(accountsRoot, 0o755);
  const env = {
    RUNBOOKS_LDAP_URL: slapd.url,
    RUNBOOKS_LDAP_BIND_DN: d.serviceDn,
    RUNBOOKS_LDAP_BIND_PASSWORD: 'secret:accounts/ldap-demo',
    RUNBOOKS_LDAP_PEOPLE_BASE: d.peopleBase,
    RUNBOOKS_LDAP_GROUPS_BASE: d.groupsBase,
    RUNBOOKS_LDAP_APPLICATIONS_BASE: d.applicationsBase,
    RUNBOOKS_LDAP_UID_COUNTER_DN: d.uidCounterDn,
    RUNBOOKS_LDAP_USERS_GID: String(d.usersGidNumber),
    RUNBOOKS_ACCOUNT_ROLES_FILE: path.join(dataDir, 'account-roles.json'),
    RUNBOOKS_ACCOUNTS_HOME_ROOT: path.join(accountsRoot, 'home'),
    RUNBOOKS_ACCOUNTS_ARCHIVE_ROOT: path.join(accountsRoot, 'home-archives'),
    RUNBOOKS_ACCOUNTS_MAILDIR_ROOT: path.join(accountsRoot, 'mail'),
    RUNBOOKS_ACCOUNTS_VERIFIER_KEY: 'secret:accounts/verifier-demo',
    RUNBOOKS_ACCOUNTS_LINK_BASE_URL: `http://127.0.0.1:${process.env.PORT ?? 3000}/v1/credential-links/redeem`,
    RUNBOOKS_SMTP_HOST: smtp.host,
    RUNBOOKS_SMTP_PORT: String(smtp.port),
    RUNBOOKS_SMTP_FROM: 'it@example.test',
  };
  const envFile = path.join(dataDir, 'demo', 'accounts.env');
  await fs.writeFile(
    `${envFile}.part`,
    Object.entries(env)
      .map(([k, v]) => `export ${k}='${v}'\n`)
      .join(''),
    { mode: 0o600 },
  );
  await fs.rename(`${envFile}.part`, envFile);
  console.log(`demo directory ${slapd.url}, mail caught in ${mailDir}`);

  const stop = async () => {
    await fs.rm(envFile, { force: true });
    await smtp.stop();
    await slapd.stop();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
}

/** A demo secret as a file under <data>/secrets, defined in <data>/secrets.json for the account runbooks. */
async function defineSecret(dataDir: string, name: string, value: string, description: string, replace = true): Promise<void> {
  const file = path.join(dataDir, 'secrets', name);
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const keep =
    !replace &&
    (await fs.access(file).then(
      () => true,
      () => false,
    ));
  if (!keep) await fs.writeFile(file, `${value}\n`, { mode: 0o600 });
  const catalogFile = path.join(dataDir, 'secrets.json');
  const catalog = JSON.parse(await fs.readFile(catalogFile, 'utf8').catch(() => '{"demo":true,"secrets":[]}')) as SecretCatalogContent;
  if (!catalog.secrets.some((s) => s.name === name)) {
    catalog.secrets.push({ name, description, source: { backend: 'file', file: name }, runbooks: ACCOUNT_RUNBOOKS, roles: [] });
    await fs.writeFile(catalogFile, `${JSON.stringify(catalog, null, 2)}\n`, { mode: 0o600 });
  }
}

if (require.main === module) {
  main(process.argv[2] ?? path.resolve(__dirname, '..', '..', '..', '..', 'data')).catch((error) => {
    console.error(`account demo: ${(error as Error).message}`);
    process.exit(1);
  });
}
