import type { AccountRoleCatalog } from '@runbooks/contracts';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';

const SLAPD = '/usr/sbin/slapd';
const SCHEMA_DIR = '/etc/ldap/schema';
const MODULE_DIR = '/usr/lib/ldap';

/** The directory layout every slapd of the tests (and of `npm start`) is made with. */
export const TEST_DIRECTORY = {
  suffix: 'dc=example,dc=test',
  /** The manager (rootdn): only the test setup binds as it. */
  rootDn: 'cn=admin,dc=example,dc=test',
  /** The service account runbooks bind as: writes people, groups and applications, nothing else. */
  serviceDn: 'cn=runbooks,ou=services,dc=example,dc=test',
  peopleBase: 'ou=people,dc=example,dc=test',
  groupsBase: 'ou=groups,dc=example,dc=test',
  applicationsBase: 'ou=applications,dc=example,dc=test',
  policyDn: 'cn=default,ou=policies,dc=example,dc=test',
  uidCounterDn: 'cn=uidnext,ou=services,dc=example,dc=test',
  /** The first uidNumber the counter hands out. */
  firstUidNumber: 20000,
  /** Every new person's primary group. */
  usersGidNumber: 10000,
  /** Failed binds before the account locks (ppolicy pwdMaxFailure). */
  maxFailures: 3,
  /** Shortest password the directory takes (ppolicy pwdMinLength). */
  minLength: 12,
} as const;

export interface Slapd {
  url: string;
  port: number;
  /** The service account's password, for the test's secret definition. */
  servicePassword: string;
  dir: string;
  /** Adds entries (LDIF) as the manager: the tests' groups, applications and people made by hand. */
  add(ldif: string): void;
  stop(): Promise<void>;
}

/** Why slapd cannot run here, or undefined when it can. */
export function slapdMissing(): string | undefined {
  if (existsSync(SLAPD) && existsSync(path.join(MODULE_DIR, 'ppolicy.so'))) return undefined;
  return `${SLAPD} (with its ppolicy overlay) is missing: install the Debian packages slapd and ldap-utils (apt-get install slapd ldap-utils)`;
}

/**
 * A real OpenLDAP slapd on 127.0.0.1 (for the tests and the `npm start` demo) and a free port, with a throwaway cn=config and mdb
 * database under `dir` (a temp folder by default), the ppolicy overlay loaded (password
 * quality by length, lockout after TEST_DIRECTORY.maxFailures failed binds, pwdReset when
 * someone other than the user sets a password) and ACLs that let people bind, read their
 * own entry and change their own password, and let the runbooks' service account manage
 * people, groups and applications.
 */
export async function startSlapd(options: { dir?: string; servicePassword?: string } = {}): Promise<Slapd> {
  const missing = slapdMissing();
  if (missing) throw new Error(missing);
  const dir = options.dir ?? mkdtempSync(path.join(os.tmpdir(), 'runbooks-slapd-'));
  const servicePassword = options.servicePassword ?? `svc-${Math.random().toString(36).slice(2)}-${Date.now()}`;
  const rootPassword = `root-${Math.random().toString(36).slice(2)}`;
  const d = TEST_DIRECTORY;
  for (const sub of ['db', 'config']) mkdirSync(path.join(dir, sub), { recursive: true });
  const conf = path.join(dir, 'slapd.conf');
  writeFileSync(
    conf,
    [
      ...['core', 'cosine', 'nis', 'inetorgperson'].map((s) => `include ${SCHEMA_DIR}/${s}.schema`),
      `modulepath ${MODULE_DIR}`,
      'moduleload back_mdb',
      'moduleload ppolicy',
      `pidfile ${dir}/slapd.pid`,
      'password-hash {SSHA}',
      'database mdb',
      'maxsize 67108864',
      `suffix "${d.suffix}"`,
      `rootdn "${d.rootDn}"`,
      `rootpw ${slappasswd(rootPassword)}`,
      `directory ${dir}/db`,
      'index objectClass,uid,uidNumber,memberUid,member eq',
      'overlay ppolicy',
      `ppolicy_default "${d.policyDn}"`,
      'ppolicy_use_lockout',
      // Cleartext passwords set over LDAP are stored hashed, as Debian's default does.
      'ppolicy_hash_cleartext',
      // Passwords: the owner changes it; the service account sets it; binding checks it; nobody reads it.
      `access to attrs=userPassword by self write by dn.exact="${d.serviceDn}" write by anonymous auth by * none`,
      `access to dn.subtree="${d.peopleBase}" by dn.exact="${d.serviceDn}" write by self read by users read by * none`,
      `access to dn.subtree="${d.groupsBase}" by dn.exact="${d.serviceDn}" write by users read by * none`,
      `access to dn.subtree="${d.applicationsBase}" by dn.exact="${d.serviceDn}" write by users read by * none`,
      `access to dn.exact="${d.uidCounterDn}" by dn.exact="${d.serviceDn}" write by * none`,
      `access to * by dn.exact="${d.serviceDn}" read by users read by * none`,
      '',
    ].join('\n'),
  );
  const base = [
    `dn: ${d.suffix}`,
    'objectClass: dcObject',
    'objectClass: organization',
    'dc: example',
    'o: Example',
    ...['people', 'groups', 'applications', 'services', 'policies'].flatMap((ou) => [
      '',
      `dn: ou=${ou},${d.suffix}`,
      'objectClass: organizationalUnit',
      `ou: ${ou}`,
    ]),
    '',
    `dn: ${d.serviceDn}`,
    'objectClass: applicationProcess',
    'objectClass: simpleSecurityObject',
    'cn: runbooks',
    `userPassword: ${slappasswd(servicePassword)}`,
    '',
    `dn: ${d.uidCounterDn}`,
    'objectClass: account',
    'objectClass: posixAccount',
    'uid: uidnext',
    'cn: uidnext',
    `uidNumber: ${d.firstUidNumber}`,
    'gidNumber: 0',
    'homeDirectory: /nonexistent',
    'description: the next free uidNumber, advanced atomically by the runbooks',
    '',
    `dn: ${d.policyDn}`,
    'objectClass: pwdPolicy',
    'objectClass: device',
    'cn: default',
    'pwdAttribute: userPassword',
    `pwdMinLength: ${d.minLength}`,
    // 2: refuse a password whose quality the server cannot check (a hashed one), and short ones.
    'pwdCheckQuality: 2',
    'pwdLockout: TRUE',
    `pwdMaxFailure: ${d.maxFailures}`,
    // 0: locked until someone clears it (the password-reset runbook).
    'pwdLockoutDuration: 0',
    'pwdFailureCountInterval: 0',
    'pwdMustChange: TRUE',
    'pwdAllowUserChange: TRUE',
    'pwdSafeModify: FALSE',
    'pwdInHistory: 5',
    '',
  ].join('\n');
  writeFileSync(path.join(dir, 'base.ldif'), base);
  execFileSync('slapadd', ['-f', conf, '-b', d.suffix, '-l', path.join(dir, 'base.ldif')], { stdio: 'pipe' });
  // Then cn=config made from the file (slaptest opens the database, so it must exist by now), and
  // slapd runs on cn=config alone (-F), as Debian's does.
  execFileSync('slaptest', ['-f', conf, '-F', path.join(dir, 'config')], { stdio: 'pipe' });

  const rootPasswordFile = path.join(dir, 'root.password');
  writeFileSync(rootPasswordFile, rootPassword, { mode: 0o600 });
  const port = await freeLoopbackPort();
  const url = `ldap://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(SLAPD, ['-F', path.join(dir, 'config'), '-h', `${url}/`, '-d', '0'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  await waitUntilListening(url, child, () => stderr);
  return {
    url,
    port,
    servicePassword,
    dir,
    add: (ldif) => {
      execFileSync('ldapadd', ['-x', '-H', url, '-D', d.rootDn, '-y', rootPasswordFile], { input: ldif, stdio: ['pipe', 'pipe', 'pipe'] });
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      if (!options.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A free loopback port (slapd takes a URL, not port 0). */
async function freeLoopbackPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function slappasswd(password: string): string {
  return execFileSync('slappasswd', ['-s', password, '-h', '{SSHA}'], { encoding: 'utf8' }).trim();
}

async function waitUntilListening(url: string, child: ChildProcess, stderr: () => string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`slapd exited with ${child.exitCode}: ${stderr()}`);
    try {
      // An anonymous read of the root DSE answers once slapd accepts connections.
      execFileSync('ldapsearch', ['-x', '-H', url, '-s', 'base', '-b', '', 'namingContexts'], { stdio: 'pipe', timeout: 5000 });
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  child.kill('SIGKILL');
  throw new Error(`slapd did not answer on ${url}: ${stderr()}`);
}

/**
 * What a fresh directory for the account runbooks holds (tests and the demo): posix groups with
 * their gidNumbers, application permissions, and the role catalogue over them: staff, and an
 * admin role whose group `wheel` makes a joiner wait for an approval.
 */
export const ACCOUNTS_SEED: { groups: Record<string, number>; permissions: string[]; roles: AccountRoleCatalog } = {
  groups: { staff: 5001, finance: 5002, wheel: 5010 },
  permissions: ['crm:read', 'ledger:write'],
  roles: {
    roles: [
      {
        name: 'analyst',
        title: 'Finance analyst',
        groups: ['staff', 'finance'],
        privilegedGroups: [],
        permissions: ['crm:read', 'ledger:write'],
        homeAclGroups: ['finance'],
      },
      {
        name: 'sysadmin',
        title: 'Systems administrator',
        groups: ['staff'],
        privilegedGroups: ['wheel'],
        permissions: ['crm:read'],
        homeAclGroups: [],
      },
    ],
  },
};

/**
 * Fills a fresh directory with ACCOUNTS_SEED's groups and permissions (groupOfNames, the service
 * account as the placeholder member the schema demands) and the manager `mmanager` (mona@example.test).
 */
export function seedAccountsDirectory(slapd: Slapd): void {
  const d = TEST_DIRECTORY;
  slapd.add(
    [
      ...Object.entries(ACCOUNTS_SEED.groups).map(
        ([cn, gid]) => `dn: cn=${cn},${d.groupsBase}\nobjectClass: posixGroup\ncn: ${cn}\ngidNumber: ${gid}\n`,
      ),
      ...ACCOUNTS_SEED.permissions.map(
        (cn) => `dn: cn=${cn},${d.applicationsBase}\nobjectClass: groupOfNames\ncn: ${cn}\nmember: ${d.serviceDn}\n`,
      ),
      `dn: uid=mmanager,${d.peopleBase}\nobjectClass: inetOrgPerson\nobjectClass: posixAccount\nuid: mmanager\ncn: Mona Manager\nsn: Manager\nmail: mona@example.test\nuidNumber: 1500\ngidNumber: ${d.usersGidNumber}\nhomeDirectory: /home/mmanager\n`,
    ].join('\n'),
  );
}
