import { ApplicationFailure } from '@temporalio/common';
import { TestSecrets } from '../test-support/secrets';
import { startSlapd, TEST_DIRECTORY, type Slapd } from '../test-support/slapd';
import { DirectoryFailureType, LdapDirectory, escapeFilterValue } from './ldap-directory';

const BIND_VARIABLE = 'RUNBOOKS_SECRET_LDAP_SPEC';

describe('LdapDirectory on a real slapd with the ppolicy overlay', () => {
  let slapd: Slapd;
  let secrets: TestSecrets;
  let directory: LdapDirectory;

  beforeAll(async () => {
    slapd = await startSlapd();
    secrets = new TestSecrets([{ name: 'ldap/runbooks', source: { backend: 'env', variable: BIND_VARIABLE }, runbooks: [], roles: [] }]);
    process.env[BIND_VARIABLE] = slapd.servicePassword;
    const d = TEST_DIRECTORY;
    directory = new LdapDirectory(
      {
        url: slapd.url,
        bindDn: d.serviceDn,
        bindPasswordRef: 'secret:ldap/runbooks',
        peopleBase: d.peopleBase,
        groupsBase: d.groupsBase,
        applicationsBase: d.applicationsBase,
        uidCounterDn: d.uidCounterDn,
        usersGidNumber: d.usersGidNumber,
      },
      secrets.resolver(),
    );
    slapd.add(
      [
        `dn: cn=staff,${d.groupsBase}\nobjectClass: posixGroup\ncn: staff\ngidNumber: 5001\n`,
        `dn: cn=crm:read,${d.applicationsBase}\nobjectClass: groupOfNames\ncn: crm:read\nmember: ${d.serviceDn}\n`,
      ].join('\n'),
    );
  });
  afterAll(async () => {
    await slapd?.stop();
    secrets?.remove();
    delete process.env[BIND_VARIABLE];
  });

  const person = (uid: string, uidNumber: number) => ({
    uid,
    givenName: 'Ada',
    sn: 'Lovelace',
    uidNumber,
    homeDirectory: `/home/${uid}`,
    mail: `${uid}@example.test`,
    createdBy: 'run accounts-spec',
  });

  it('hands out distinct uidNumbers to concurrent allocations, skipping one an entry already holds', async () => {
    slapd.add(
      `dn: uid=byhand,${TEST_DIRECTORY.peopleBase}\nobjectClass: inetOrgPerson\nobjectClass: posixAccount\nuid: byhand\ncn: By Hand\nsn: Hand\nuidNumber: 20001\ngidNumber: 10000\nhomeDirectory: /home/byhand\n`,
    );

    const numbers = await Promise.all(Array.from({ length: 6 }, () => directory.allocateUidNumber()));

    expect(new Set(numbers).size).toBe(6);
    expect(numbers).not.toContain(20001);
    expect(Math.min(...numbers)).toBe(TEST_DIRECTORY.firstUidNumber);
  });

  it('creates a person once: a retry of the same run finds its own entry, another run is refused the username', async () => {
    const made = await directory.createPerson(person('alovelace', 30001));
    expect(made).toMatchObject({
      uid: 'alovelace',
      uidNumber: 30001,
      gidNumber: TEST_DIRECTORY.usersGidNumber,
      mail: 'alovelace@example.test',
    });
    await expect(directory.createPerson(person('alovelace', 30001))).resolves.toMatchObject({ uid: 'alovelace' });

    const taken = await directory.createPerson({ ...person('alovelace', 30002), createdBy: 'run other' }).catch((e: unknown) => e);
    expect(taken).toBeInstanceOf(ApplicationFailure);
    expect((taken as Error).message).toContain('already taken');
    expect(await directory.usernamesStartingWith('alove')).toEqual(['alovelace']);
  });

  it('a password set by the service account must be changed at first login, and binds', async () => {
    await directory.createPerson(person('pwduser', 30010));
    await directory.setPassword('pwduser', 'Correct-horse-battery-9');

    expect(await directory.passwordState('pwduser')).toEqual({ mustChange: true, locked: false, failedBinds: 0 });
    expect(await directory.bindAs('pwduser', 'Correct-horse-battery-9')).toBe('ok');
    expect(await directory.bindAs('pwduser', 'wrong-password-123')).toBe('invalid-credentials');
  });

  it('refuses a password shorter than the policy allows', async () => {
    await directory.createPerson(person('shortpw', 30011));
    const refused = await directory.setPassword('shortpw', 'short1').catch((e: unknown) => e);
    expect(refused).toMatchObject({ type: DirectoryFailureType.refused, nonRetryable: true });
    expect((refused as Error).message).not.toContain('short1');
  });

  it(`locks after ${TEST_DIRECTORY.maxFailures} failed binds, even to the right password, until the lockout is cleared`, async () => {
    await directory.createPerson(person('lockme', 30012));
    await directory.setPassword('lockme', 'Right-password-for-lock-1');
    for (let i = 0; i < TEST_DIRECTORY.maxFailures; i++)
      expect(await directory.bindAs('lockme', `wrong-${i}-password`)).toBe('invalid-credentials');

    expect(await directory.passwordState('lockme')).toMatchObject({ locked: true });
    expect(await directory.bindAs('lockme', 'Right-password-for-lock-1')).toBe('invalid-credentials');

    await directory.clearLockout('lockme');
    expect(await directory.passwordState('lockme')).toMatchObject({ locked: false });
    expect(await directory.bindAs('lockme', 'Right-password-for-lock-1')).toBe('ok');
    // A good bind forgets the failed ones.
    expect(await directory.passwordState('lockme')).toMatchObject({ locked: false, failedBinds: 0 });

    await directory.lock('lockme');
    expect(await directory.bindAs('lockme', 'Right-password-for-lock-1')).toBe('invalid-credentials');
  });

  it('adds and removes group members and application permissions, idempotently', async () => {
    await directory.createPerson(person('member', 30013));
    await directory.addToGroup('staff', 'member');
    await directory.addToGroup('staff', 'member');
    await directory.grantPermission('crm:read', 'member');
    await directory.grantPermission('crm:read', 'member');
    expect(await directory.groupsOf('member')).toEqual(['staff']);
    expect(await directory.permissionsOf('member')).toEqual(['crm:read']);
    expect(await directory.groupGids(['staff'])).toEqual({ staff: 5001 });

    await directory.removeFromGroup('staff', 'member');
    await directory.removeFromGroup('staff', 'member');
    await directory.revokePermission('crm:read', 'member');
    expect(await directory.groupsOf('member')).toEqual([]);
    expect(await directory.permissionsOf('member')).toEqual([]);
    await expect(directory.addToGroup('nosuchgroup', 'member')).rejects.toMatchObject({ type: DirectoryFailureType.refused });

    expect(await directory.deletePerson('member')).toBe(true);
    expect(await directory.findPerson('member')).toBeUndefined();
    expect(await directory.deletePerson('member')).toBe(false);
  });

  it('escapes filter values so a username cannot widen a search', async () => {
    expect(escapeFilterValue('a*)(uid=*')).toBe('a\\2a\\29\\28uid=\\2a');
    expect(await directory.usernamesStartingWith('*')).toEqual([]);
  });

  it('binds only with the password its secret names; a wrong one fails without echoing it', async () => {
    process.env[BIND_VARIABLE] = 'not-the-service-password';
    try {
      const error = await directory.findPerson('alovelace').catch((e: unknown) => e);
      expect(error).toMatchObject({ type: DirectoryFailureType.refused, nonRetryable: true });
      expect((error as Error).message).not.toContain('not-the-service-password');
    } finally {
      process.env[BIND_VARIABLE] = slapd.servicePassword;
    }
  });
});
