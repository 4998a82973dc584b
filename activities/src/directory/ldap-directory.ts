import { ApplicationFailure } from '@temporalio/common';
import {
  AlreadyExistsError,
  Attribute,
  Change,
  Client,
  InvalidCredentialsError,
  NoSuchAttributeError,
  NoSuchObjectError,
  TypeOrValueExistsError,
  type Entry,
} from 'ldapts';
import type { SecretResolver } from '../secrets/resolve-secret';

/**
 * Where the directory is and which of its subtrees runbooks act on. The bind password is a
 * `secret:<name>` reference, resolved on the worker for each connection.
 */
export interface DirectoryConfig {
  url: string;
  bindDn: string;
  bindPasswordRef: string;
  /** People (posixAccount + inetOrgPerson), named uid=<username>,<peopleBase>. */
  peopleBase: string;
  /** Unix groups (posixGroup, members by memberUid). */
  groupsBase: string;
  /** Application permissions (groupOfNames, members by DN): cn=<app>:<permission>. */
  applicationsBase: string;
  /**
   * The entry holding the next free uidNumber in its uidNumber attribute (e.g. an account +
   * posixAccount entry made once by hand), advanced atomically by modify (delete old value, add new).
   */
  uidCounterDn: string;
  /** The gidNumber of new people's primary group. */
  usersGidNumber: number;
}

export const DirectoryFailureType = {
  /** The directory is unreachable or busy: worth retrying. */
  unavailable: 'DirectoryUnavailable',
  /** The directory refused the change (schema, policy, access): retrying will not help. */
  refused: 'DirectoryRefused',
  /** The entry is outside the configured bases. */
  outsideBase: 'DirectoryOutsideBase',
} as const;

/** Locked by an administrator until cleared (ppolicy: this value means "permanently"). */
const LOCKED_FOR_GOOD = '000001010000Z';
const LDAP_TIMEOUT_MS = 10_000;

/** The directory configuration from RUNBOOKS_LDAP_*; undefined when no directory (RUNBOOKS_LDAP_URL) is configured. */
export function directoryConfigFromEnv(env: NodeJS.ProcessEnv = process.env): DirectoryConfig | undefined {
  const url = env.RUNBOOKS_LDAP_URL;
  if (!url) return undefined;
  const required = (name: string): string => {
    const value = env[name];
    if (!value) throw new Error(`${name} is required with RUNBOOKS_LDAP_URL`);
    return value;
  };
  const bindPasswordRef = required('RUNBOOKS_LDAP_BIND_PASSWORD');
  if (!bindPasswordRef.startsWith('secret:'))
    throw new Error('RUNBOOKS_LDAP_BIND_PASSWORD must be a secret:<name> reference, not a password');
  return {
    url,
    bindDn: required('RUNBOOKS_LDAP_BIND_DN'),
    bindPasswordRef,
    peopleBase: required('RUNBOOKS_LDAP_PEOPLE_BASE'),
    groupsBase: required('RUNBOOKS_LDAP_GROUPS_BASE'),
    applicationsBase: required('RUNBOOKS_LDAP_APPLICATIONS_BASE'),
    uidCounterDn: required('RUNBOOKS_LDAP_UID_COUNTER_DN'),
    usersGidNumber: Number(env.RUNBOOKS_LDAP_USERS_GID ?? 10000),
  };
}

export interface DirectoryPerson {
  uid: string;
  dn: string;
  cn: string;
  uidNumber: number;
  gidNumber: number;
  homeDirectory: string;
  mail?: string;
  departmentNumber?: string;
  manager?: string;
  /** Which run made the entry (its `description`), so a retried create recognizes its own. */
  createdBy?: string;
}

export interface NewPerson {
  uid: string;
  givenName: string;
  sn: string;
  uidNumber: number;
  homeDirectory: string;
  mail?: string;
  departmentNumber?: string;
  /** The manager's DN. */
  manager?: string;
  createdBy: string;
}

export interface PasswordState {
  /** ppolicy pwdReset: the password must be changed at the next login. */
  mustChange: boolean;
  locked: boolean;
  failedBinds: number;
}

export type BindResult = 'ok' | 'invalid-credentials';

/** A directory driver on a real LDAP server (ldapts): people, Unix groups, application permissions, ppolicy state. */
export class LdapDirectory {
  constructor(
    readonly config: DirectoryConfig,
    private readonly secrets: SecretResolver,
  ) {}

  personDn(uid: string): string {
    return `uid=${escapeDnValue(uid)},${this.config.peopleBase}`;
  }

  groupDn(cn: string): string {
    return `cn=${escapeDnValue(cn)},${this.config.groupsBase}`;
  }

  applicationDn(permission: string): string {
    return `cn=${escapeDnValue(permission)},${this.config.applicationsBase}`;
  }

  async findPerson(uid: string): Promise<DirectoryPerson | undefined> {
    return this.session(async (client) => {
      const { searchEntries } = await client.search(this.config.peopleBase, {
        scope: 'one',
        filter: `(&(objectClass=posixAccount)(uid=${escapeFilterValue(uid)}))`,
        attributes: ['uid', 'cn', 'uidNumber', 'gidNumber', 'homeDirectory', 'mail', 'departmentNumber', 'manager', 'description'],
      });
      return searchEntries[0] ? toPerson(searchEntries[0]) : undefined;
    });
  }

  /** Usernames in use that start with `stem` (people of any base the service account can read; uids are unique site-wide). */
  async usernamesStartingWith(stem: string): Promise<string[]> {
    return this.session(async (client) => {
      const { searchEntries } = await client.search(this.suffixOf(this.config.peopleBase), {
        scope: 'sub',
        filter: `(uid=${escapeFilterValue(stem)}*)`,
        attributes: ['uid'],
      });
      return searchEntries.map((e) => String(first(e.uid)));
    });
  }

  /**
   * The next free uidNumber, taken atomically: the counter's value is removed and the next one
   * added in one modify, which fails for every writer but one when several race (the loser
   * reads again). A number some entry already carries (set by hand) is skipped.
   */
  async allocateUidNumber(): Promise<number> {
    return this.session(async (client) => {
      for (let attempt = 0; attempt < 50; attempt++) {
        const current = await this.readCounter(client);
        try {
          await client.modify(this.config.uidCounterDn, [
            new Change({ operation: 'delete', modification: new Attribute({ type: 'uidNumber', values: [String(current)] }) }),
            new Change({ operation: 'add', modification: new Attribute({ type: 'uidNumber', values: [String(current + 1)] }) }),
          ]);
        } catch (error) {
          if (error instanceof NoSuchAttributeError) continue; // another writer took `current` first
          throw error;
        }
        const { searchEntries } = await client.search(this.suffixOf(this.config.peopleBase), {
          scope: 'sub',
          filter: `(&(objectClass=posixAccount)(uidNumber=${current}))`,
          attributes: ['uid'],
        });
        if (searchEntries.length === 0) return current;
      }
      throw ApplicationFailure.retryable('the uidNumber counter stayed contended for 50 attempts', DirectoryFailureType.unavailable);
    });
  }

  private async readCounter(client: Client): Promise<number> {
    const { searchEntries } = await client
      .search(this.config.uidCounterDn, { scope: 'base', attributes: ['uidNumber'] })
      .catch((error: unknown) => {
        if (error instanceof NoSuchObjectError) {
          throw ApplicationFailure.nonRetryable(
            `the uidNumber counter ${this.config.uidCounterDn} does not exist in the directory`,
            DirectoryFailureType.refused,
          );
        }
        throw error;
      });
    return Number(first(searchEntries[0].uidNumber));
  }

  /** Adds the person; an entry the same run made already is taken as done (a retried activity). */
  async createPerson(person: NewPerson): Promise<DirectoryPerson> {
    const dn = this.personDn(person.uid);
    await this.session(async (client) => {
      try {
        await client.add(dn, {
          objectClass: ['inetOrgPerson', 'posixAccount'],
          uid: person.uid,
          cn: `${person.givenName} ${person.sn}`,
          givenName: person.givenName,
          sn: person.sn,
          uidNumber: String(person.uidNumber),
          gidNumber: String(this.config.usersGidNumber),
          homeDirectory: person.homeDirectory,
          loginShell: '/bin/bash',
          description: person.createdBy,
          ...(person.mail ? { mail: person.mail } : {}),
          ...(person.departmentNumber ? { departmentNumber: person.departmentNumber } : {}),
          ...(person.manager ? { manager: person.manager } : {}),
        });
      } catch (error) {
        if (!(error instanceof AlreadyExistsError)) throw error;
      }
    });
    const made = await this.findPerson(person.uid);
    if (!made || made.createdBy !== person.createdBy) {
      throw ApplicationFailure.nonRetryable(`the username ${person.uid} is already taken in the directory`, DirectoryFailureType.refused);
    }
    return made;
  }

  async deletePerson(uid: string): Promise<boolean> {
    return this.session(async (client) => {
      try {
        await client.del(this.personDn(uid));
        return true;
      } catch (error) {
        if (error instanceof NoSuchObjectError) return false;
        throw error;
      }
    });
  }

  async replaceAttributes(uid: string, attributes: Record<string, string | undefined>): Promise<void> {
    await this.session((client) =>
      client.modify(
        this.personDn(uid),
        Object.entries(attributes).map(
          ([type, value]) =>
            new Change({ operation: 'replace', modification: new Attribute({ type, values: value === undefined ? [] : [value] }) }),
        ),
      ),
    );
  }

  /** Sets a password as the service account: the ppolicy overlay checks its quality and flags pwdReset (change at next login). */
  async setPassword(uid: string, password: string): Promise<void> {
    await this.session((client) =>
      client.modify(this.personDn(uid), [
        new Change({ operation: 'replace', modification: new Attribute({ type: 'userPassword', values: [password] }) }),
        new Change({ operation: 'replace', modification: new Attribute({ type: 'pwdReset', values: ['TRUE'] }) }),
      ]),
    );
  }

  async passwordState(uid: string): Promise<PasswordState> {
    return this.session(async (client) => {
      const { searchEntries } = await client.search(this.personDn(uid), {
        scope: 'base',
        attributes: ['pwdReset', 'pwdAccountLockedTime', 'pwdFailureTime'],
      });
      const entry = searchEntries[0];
      return {
        mustChange: String(first(entry.pwdReset) ?? 'FALSE').toUpperCase() === 'TRUE',
        locked: entry.pwdAccountLockedTime !== undefined && values(entry.pwdAccountLockedTime).length > 0,
        failedBinds: values(entry.pwdFailureTime).length,
      };
    });
  }

  /** Locks the account until someone clears it: binds fail whatever the password. */
  async lock(uid: string): Promise<void> {
    await this.session((client) =>
      client.modify(this.personDn(uid), [
        new Change({ operation: 'replace', modification: new Attribute({ type: 'pwdAccountLockedTime', values: [LOCKED_FOR_GOOD] }) }),
      ]),
    );
  }

  /** Clears a lockout and the failed-bind count. */
  async clearLockout(uid: string): Promise<void> {
    await this.session((client) =>
      client.modify(this.personDn(uid), [
        // ppolicy drops the failed-bind times with the lock (pwdFailureTime itself is not writable).
        new Change({ operation: 'replace', modification: new Attribute({ type: 'pwdAccountLockedTime', values: [] }) }),
      ]),
    );
  }

  /** Binds as the person with `password`; a locked account answers invalid credentials whatever the password. */
  async bindAs(uid: string, password: string): Promise<BindResult> {
    const client = new Client({ url: this.config.url, timeout: LDAP_TIMEOUT_MS, connectTimeout: LDAP_TIMEOUT_MS });
    try {
      await client.bind(this.personDn(uid), password);
      return 'ok';
    } catch (error) {
      if (error instanceof InvalidCredentialsError) return 'invalid-credentials';
      throw directoryFailure(error, this.config);
    } finally {
      await client.unbind().catch(() => undefined);
    }
  }

  /** Unix groups (cn) whose memberUid lists the person. */
  async groupsOf(uid: string): Promise<string[]> {
    return this.session(async (client) => {
      const { searchEntries } = await client.search(this.config.groupsBase, {
        scope: 'sub',
        filter: `(&(objectClass=posixGroup)(memberUid=${escapeFilterValue(uid)}))`,
        attributes: ['cn'],
      });
      return searchEntries.map((e) => String(first(e.cn))).sort();
    });
  }

  /** Group cn → gidNumber, for ACLs on the file server. */
  async groupGids(cns: readonly string[]): Promise<Record<string, number>> {
    const gids: Record<string, number> = {};
    await this.session(async (client) => {
      for (const cn of cns) {
        const { searchEntries } = await client
          .search(this.groupDn(cn), { scope: 'base', attributes: ['gidNumber'] })
          .catch((error: unknown) => {
            if (error instanceof NoSuchObjectError)
              throw ApplicationFailure.nonRetryable(`no group ${cn} in ${this.config.groupsBase}`, DirectoryFailureType.refused);
            throw error;
          });
        gids[cn] = Number(first(searchEntries[0].gidNumber));
      }
    });
    return gids;
  }

  /** Adds the person to the group; already a member is fine (retries). */
  async addToGroup(cn: string, uid: string): Promise<void> {
    await this.changeValue(this.groupDn(cn), 'add', 'memberUid', uid);
  }

  /** Removes the person from the group; not a member is fine. */
  async removeFromGroup(cn: string, uid: string): Promise<void> {
    await this.changeValue(this.groupDn(cn), 'delete', 'memberUid', uid);
  }

  /** Application permissions (cn) whose member list holds the person's DN. */
  async permissionsOf(uid: string): Promise<string[]> {
    return this.session(async (client) => {
      const { searchEntries } = await client.search(this.config.applicationsBase, {
        scope: 'sub',
        filter: `(&(objectClass=groupOfNames)(member=${escapeFilterValue(this.personDn(uid))}))`,
        attributes: ['cn'],
      });
      return searchEntries.map((e) => String(first(e.cn))).sort();
    });
  }

  async grantPermission(permission: string, uid: string): Promise<void> {
    await this.changeValue(this.applicationDn(permission), 'add', 'member', this.personDn(uid));
  }

  async revokePermission(permission: string, uid: string): Promise<void> {
    await this.changeValue(this.applicationDn(permission), 'delete', 'member', this.personDn(uid));
  }

  private async changeValue(dn: string, operation: 'add' | 'delete', type: string, value: string): Promise<void> {
    await this.session(async (client) => {
      try {
        await client.modify(dn, [new Change({ operation, modification: new Attribute({ type, values: [value] }) })]);
      } catch (error) {
        if (operation === 'add' && error instanceof TypeOrValueExistsError) return;
        if (operation === 'delete' && error instanceof NoSuchAttributeError) return;
        if (error instanceof NoSuchObjectError)
          throw ApplicationFailure.nonRetryable(`no entry ${dn} in the directory`, DirectoryFailureType.refused);
        throw error;
      }
    });
  }

  private suffixOf(base: string): string {
    // People are searched for collisions from the directory's suffix (the dc= parts): uids are unique site-wide.
    const dc = base.split(',').filter((part) => /^\s*dc=/i.test(part));
    return dc.length > 0 ? dc.join(',') : base;
  }

  /** One bound connection for `work`, closed after; errors become Temporal failures naming the directory, never the password. */
  private async session<T>(work: (client: Client) => Promise<T>): Promise<T> {
    const password = await this.secrets.resolve(this.config.bindPasswordRef);
    const client = new Client({ url: this.config.url, timeout: LDAP_TIMEOUT_MS, connectTimeout: LDAP_TIMEOUT_MS });
    try {
      await client.bind(this.config.bindDn, password);
      return await work(client);
    } catch (error) {
      throw directoryFailure(error, this.config);
    } finally {
      await client.unbind().catch(() => undefined);
    }
  }
}

function directoryFailure(error: unknown, config: DirectoryConfig): Error {
  if (error instanceof ApplicationFailure) return error;
  const e = error as { code?: number | string; message?: string; constructor?: { name?: string } };
  const message = `the directory ${config.url} ${e.constructor?.name ?? 'error'}: ${(e.message ?? String(error)).slice(0, 300)}`;
  // LDAP result codes (numbers) are the server's answer: final, except busy (51) and unavailable (52).
  if (typeof e.code === 'number' && e.code !== 51 && e.code !== 52)
    return ApplicationFailure.nonRetryable(message, DirectoryFailureType.refused);
  return ApplicationFailure.retryable(message, DirectoryFailureType.unavailable);
}

function values(v: Entry[string] | undefined): string[] {
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).map((x) => (Buffer.isBuffer(x) ? x.toString('utf8') : String(x)));
}

function first(v: Entry[string] | undefined): string | undefined {
  return values(v)[0];
}

function toPerson(e: Entry): DirectoryPerson {
  return {
    uid: String(first(e.uid)),
    dn: e.dn,
    cn: String(first(e.cn)),
    uidNumber: Number(first(e.uidNumber)),
    gidNumber: Number(first(e.gidNumber)),
    homeDirectory: String(first(e.homeDirectory)),
    mail: first(e.mail),
    departmentNumber: first(e.departmentNumber),
    manager: first(e.manager),
    createdBy: first(e.description),
  };
}

/** RFC 4514 escaping of an attribute value inside a DN. */
export function escapeDnValue(value: string): string {
  return value.replace(/[,+"\\<>;=]/g, (c) => `\\${c}`).replace(/^[ #]|[ ]$/g, (c) => `\\${c}`);
}

/** RFC 4515 escaping of a value inside a search filter. */
export function escapeFilterValue(value: string): string {
  return value.replace(/[\\*()\0]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
