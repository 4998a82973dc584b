import {
  accountRoleCatalogSchema,
  type AccessDiff,
  type AccountRole,
  type AccountRoleCatalog,
  type Host,
  type RedeemedCredentials,
} from '@runbooks/contracts';
import { AccountsRepository, type Store } from '@runbooks/store';
import { ApplicationFailure } from '@temporalio/common';
import { authenticator } from 'otplib';
import { randomUUID } from 'node:crypto';
import { LdapDirectory, directoryConfigFromEnv, type DirectoryConfig } from '../directory/ldap-directory';
import { CachedJsonFile } from '../files/cached-json-file';
import type { CommandTransport } from '../hosts/command-driver';
import type { Mailer } from '../mail/smtp';
import type { SecretResolver } from '../secrets/resolve-secret';
import { generatePassword, generateToken, keyFromToken, parseSealKey, seal, sha256Hex, unseal } from './credentials';
export { redeemCredentialLink, type RedeemResult } from './credential-links';
import { PersonalFolders, type AccessCheck, type HostFolder } from './file-server';

export const AccountFailureType = {
  /** The worker has no directory, role catalogue or key configured for accounts. */
  notConfigured: 'AccountsNotConfigured',
  /** The input names something that is not there (a role, a manager) or is taken. */
  invalid: 'AccountInputInvalid',
  /** The access test found something wrong: the account does not work as it should. */
  accessTestFailed: 'AccountAccessTestFailed',
} as const;

/**
 * How the worker reaches what accounts live on. The secrets (directory bind password, the
 * verifier's key, the SMTP login) are references; values are read on use, in activities only.
 */
export interface AccountsConfig {
  directory: DirectoryConfig;
  /** The role catalogue (JSON, accountRoleCatalogSchema), re-read when it changes. */
  rolesFile: string;
  /** Home drives: `<homeRoot>/<username>` on this host (the host drivers' transport: local or ssh). */
  fileServer: { host: Host; homeRoot: string; archiveRoot: string };
  /** Mailboxes: `<maildirRoot>/<username>` Maildirs on this host, addresses `<username>@<domain>`. */
  mail: { host: Host; maildirRoot: string; domain: string };
  /** The key (32 bytes base64, by `secret:` reference) sealing TOTP secrets and unsent links: only the worker reads it. */
  verifierKeyRef: string;
  /** The issuer shown in authenticator apps. */
  mfaIssuer: string;
  /** The redeem page the link points to; the token follows as `#<token>`. */
  linkBaseUrl: string;
  /** How long a sent link may be redeemed. */
  linkTtlSeconds: number;
}

/**
 * The accounts configuration from the environment (RUNBOOKS_LDAP_* for the directory, see
 * directoryConfigFromEnv, and RUNBOOKS_ACCOUNTS_*); undefined when no directory is configured.
 */
export function accountsConfigFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  dataDir = env.RUNBOOKS_DATA_DIR ?? '/var/lib/runbooks',
): AccountsConfig | undefined {
  const directory = directoryConfigFromEnv(env);
  if (!directory) return undefined;
  const localHost = (name: string): Host => ({ name, address: '127.0.0.1', osFamily: 'debian', tags: [], driver: 'local' });
  return {
    directory,
    rolesFile: env.RUNBOOKS_ACCOUNT_ROLES_FILE || `${dataDir}/account-roles.json`,
    fileServer: {
      host: localHost(env.RUNBOOKS_ACCOUNTS_FILE_SERVER || 'localhost'),
      homeRoot: env.RUNBOOKS_ACCOUNTS_HOME_ROOT || `${dataDir}/home`,
      archiveRoot: env.RUNBOOKS_ACCOUNTS_ARCHIVE_ROOT || `${dataDir}/home-archives`,
    },
    mail: {
      host: localHost(env.RUNBOOKS_ACCOUNTS_MAIL_HOST || 'localhost'),
      maildirRoot: env.RUNBOOKS_ACCOUNTS_MAILDIR_ROOT || `${dataDir}/mail`,
      domain: env.RUNBOOKS_ACCOUNTS_MAIL_DOMAIN || 'example.test',
    },
    verifierKeyRef: env.RUNBOOKS_ACCOUNTS_VERIFIER_KEY || 'secret:accounts/verifier',
    mfaIssuer: env.RUNBOOKS_ACCOUNTS_MFA_ISSUER || 'Runbooks',
    linkBaseUrl: env.RUNBOOKS_ACCOUNTS_LINK_BASE_URL || 'http://127.0.0.1:3000/v1/credential-links/redeem',
    linkTtlSeconds: Number(env.RUNBOOKS_ACCOUNTS_LINK_TTL_SECONDS || 72 * 3600),
  };
}

export interface AccountEntry {
  username: string;
  dn: string;
  uidNumber: number;
  gidNumber: number;
  homeDirectory: string;
}

export interface IssuedCredentials {
  /** The one-time link's id (not its token): the run refers to it, never to what it holds. */
  linkId: string;
  /** The directory flags the password to be changed at first login (ppolicy pwdReset). */
  mustChange: boolean;
  mfa: 'totp';
}

export interface AccessTestResult {
  bind: 'ok';
  mustChangePassword: boolean;
  groups: string[];
  permissions: string[];
  totp: 'verified';
  home: AccessCheck;
}

/** The activities of the account runbooks. Results carry settings and ids, never a password, TOTP secret or link token. */
export interface AccountActivities {
  accountRole(input: { role: string }): Promise<AccountRole>;
  chooseUsername(input: { givenName: string; surname: string; runId: string }): Promise<{ username: string; taken: string[] }>;
  createAccountEntry(input: {
    username: string;
    givenName: string;
    surname: string;
    department: string;
    manager: string;
    runId: string;
  }): Promise<AccountEntry>;
  deleteAccountEntry(input: { username: string; runId: string }): Promise<{ deleted: boolean }>;
  issueCredentials(input: { username: string; runId: string }): Promise<IssuedCredentials>;
  revokeCredentials(input: { username: string; runId: string }): Promise<{ linksVoided: number; mfaRemoved: boolean }>;
  grantRoleAccess(input: { username: string; role: string }): Promise<{ groups: string[]; permissions: string[] }>;
  revokeAccess(input: { username: string; groups: string[]; permissions: string[] }): Promise<{ groups: string[]; permissions: string[] }>;
  createHomeDrive(input: { username: string; role: string }): Promise<HostFolder>;
  removeHomeDrive(input: { username: string }): Promise<{ removed: boolean }>;
  setUpMailbox(input: { username: string; runId: string }): Promise<{ mail: string; maildir: HostFolder; welcomeMessageId: string }>;
  removeMailbox(input: { username: string }): Promise<{ removed: boolean }>;
  testAccountAccess(input: { username: string; linkId: string; role: string }): Promise<AccessTestResult>;
  deliverCredentials(input: {
    username: string;
    linkId: string;
    to: string;
  }): Promise<{ mailedTo: string; messageId: string; expiresAt: string }>;
  resetPassword(input: { username: string; runId: string; resetMfa: boolean }): Promise<PasswordResetResult>;
  /** Locks the account and voids its TOTP secret and unredeemed links. */
  lockAccount(input: {
    username: string;
  }): Promise<{ locked: boolean; mfaRemoved: boolean; linksVoided: number; manager?: string; managerMail?: string }>;
  /** Removes every group and application permission the person holds; lists them. */
  removeAllAccess(input: { username: string }): Promise<{ groups: string[]; permissions: string[] }>;
  /** Archives the home drive on the file server, then removes it. */
  archiveHomeDrive(input: {
    username: string;
    runId: string;
  }): Promise<{ archive?: { path: string; sha256: string; bytes: number }; removed: boolean }>;
  /** Sets (to) or removes (undefined) the mail forward in the person's Maildir. */
  setMailForward(input: { username: string; to?: string }): Promise<{ forwardTo?: string }>;
  /** Deletes the entry and the Maildir. */
  deleteAccount(input: { username: string }): Promise<{ entryDeleted: boolean; maildirRemoved: boolean }>;
  /** The changes a move from one role to another makes, given what the person holds now. */
  planAccessChange(input: { username: string; fromRole: string; toRole: string }): Promise<AccessDiff>;
  /** Applies a diff (and the department when given); the undo applies the reverse diff. */
  applyAccessChange(input: {
    username: string;
    diff: AccessDiff;
    department?: string;
  }): Promise<{ groups: string[]; permissions: string[] }>;
  /** What is left of the person anywhere the account runbooks act: empty when nothing. */
  accountLeftovers(input: { username: string }): Promise<string[]>;
  /** Mails the person at their directory address; without one, says so instead. */
  notifyAccountHolder(input: { username: string; subject: string; text: string }): Promise<{ mailedTo?: string; messageId?: string }>;
}

export interface PasswordResetResult {
  linkId: string;
  /** The account was locked (ppolicy) before the reset; it is not any more. */
  wasLocked: boolean;
  failedBindsBefore: number;
  mustChange: boolean;
  mfaReenrolled: boolean;
}

interface PendingCredentials {
  password: string;
  token: string;
}

export interface AccountDeps {
  config: AccountsConfig | undefined;
  store: Store;
  secrets: SecretResolver;
  mailer: Mailer;
  /** The command transport of a host (local or ssh), as the host drivers use. */
  transportFor(host: Host): CommandTransport;
}

/** The TOTP verifier: the one reader of the sealed TOTP secrets. */
export class TotpVerifier {
  constructor(
    private readonly accounts: AccountsRepository,
    private readonly key: () => Promise<Buffer>,
  ) {}

  async enrol(username: string, runId: string, issuer: string): Promise<string> {
    const secret = authenticator.generateSecret(20);
    await this.accounts.saveMfaSecret(username, seal(await this.key(), secret, `mfa:${username}`), runId);
    return authenticator.keyuri(username, issuer, secret);
  }

  /** Whether `code` is the user's current TOTP code (RFC 6238, 30 s steps, one step of clock skew either way). */
  async verify(username: string, code: string): Promise<boolean> {
    const stored = await this.accounts.mfaSecret(username);
    if (!stored) return false;
    const secret = unseal(await this.key(), stored.sealed, `mfa:${username}`);
    authenticator.options = { window: 1 };
    return authenticator.check(code, secret);
  }

  /** The current code, computed on the verifier's side: the access test proves the stored secret works end to end. */
  async currentCode(username: string): Promise<string | undefined> {
    const stored = await this.accounts.mfaSecret(username);
    return stored && authenticator.generate(unseal(await this.key(), stored.sealed, `mfa:${username}`));
  }
}

export function createAccountActivities(deps: AccountDeps): AccountActivities {
  const accounts = new AccountsRepository(deps.store);
  const configured = (): AccountsConfig => {
    if (!deps.config) {
      throw ApplicationFailure.nonRetryable(
        'no directory is configured on the worker for account runbooks (RUNBOOKS_LDAP_URL)',
        AccountFailureType.notConfigured,
      );
    }
    return deps.config;
  };
  let directory: LdapDirectory | undefined;
  const dir = () => (directory ??= new LdapDirectory(configured().directory, deps.secrets));
  let roleCatalog: CachedJsonFile<AccountRoleCatalog> | undefined;
  const roles = () =>
    (roleCatalog ??= new CachedJsonFile(
      configured().rolesFile,
      (json) => {
        if (json === undefined) return { roles: [] };
        const parsed = accountRoleCatalogSchema.safeParse(json);
        if (!parsed.success) {
          const where = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
          throw ApplicationFailure.nonRetryable(
            `the role catalogue ${configured().rolesFile} is invalid: ${where}`,
            AccountFailureType.notConfigured,
          );
        }
        return parsed.data;
      },
      (message) =>
        ApplicationFailure.nonRetryable(`the role catalogue ${configured().rolesFile} is ${message}`, AccountFailureType.notConfigured),
    ));
  const role = async (name: string): Promise<AccountRole> => {
    const found = (await roles().read()).roles.find((r) => r.name === name);
    if (!found) throw ApplicationFailure.nonRetryable(`the role ${name} is not in the role catalogue`, AccountFailureType.invalid);
    return found;
  };
  const verifierKey = async () => parseSealKey(await deps.secrets.resolve(configured().verifierKeyRef));
  const verifier = new TotpVerifier(accounts, verifierKey);
  const homes = () =>
    new PersonalFolders(deps.transportFor(configured().fileServer.host), configured().fileServer.host, configured().fileServer.homeRoot);
  const maildirs = () =>
    new PersonalFolders(deps.transportFor(configured().mail.host), configured().mail.host, configured().mail.maildirRoot);
  const person = async (username: string) => {
    const found = await dir().findPerson(username);
    if (!found) throw ApplicationFailure.nonRetryable(`no person ${username} in the directory`, AccountFailureType.invalid);
    return found;
  };
  const pending = async (linkId: string, username: string): Promise<PendingCredentials> => {
    const sealed = await accounts.pendingOf(linkId);
    if (!sealed)
      throw ApplicationFailure.nonRetryable(`the credential link ${linkId} was already sent or voided`, AccountFailureType.invalid);
    return JSON.parse(unseal(await verifierKey(), sealed, `pending:${linkId}:${username}`)) as PendingCredentials;
  };
  const createdBy = (runId: string) => `runbooks run ${runId}`;

  return {
    accountRole: ({ role: name }) => role(name),

    async chooseUsername({ givenName, surname, runId }) {
      const stem = usernameStem(givenName, surname);
      const taken = new Set(await dir().usernamesStartingWith(stem));
      for (let n = 1; ; n++) {
        const candidate = n === 1 ? stem : `${stem}${n}`;
        if (!taken.has(candidate)) return { username: candidate, taken: [...taken].sort() };
        // A retry after this run made the entry: its own name again.
        if ((await dir().findPerson(candidate))?.createdBy === createdBy(runId))
          return { username: candidate, taken: [...taken].filter((t) => t !== candidate).sort() };
      }
    },

    async createAccountEntry({ username, givenName, surname, department, manager, runId }) {
      const boss = await dir().findPerson(manager);
      if (!boss) throw ApplicationFailure.nonRetryable(`the manager ${manager} is not in the directory`, AccountFailureType.invalid);
      const existing = await dir().findPerson(username);
      const uidNumber = existing?.createdBy === createdBy(runId) ? existing.uidNumber : await dir().allocateUidNumber();
      const made = await dir().createPerson({
        uid: username,
        givenName,
        sn: surname,
        uidNumber,
        homeDirectory: `${configured().fileServer.homeRoot}/${username}`,
        departmentNumber: department,
        manager: boss.dn,
        createdBy: createdBy(runId),
      });
      return { username, dn: made.dn, uidNumber: made.uidNumber, gidNumber: made.gidNumber, homeDirectory: made.homeDirectory };
    },

    async deleteAccountEntry({ username, runId }) {
      const found = await dir().findPerson(username);
      if (!found) return { deleted: false };
      if (found.createdBy !== createdBy(runId)) {
        throw ApplicationFailure.nonRetryable(`${username} was not made by this run: left in place`, AccountFailureType.invalid);
      }
      return { deleted: await dir().deletePerson(username) };
    },

    async issueCredentials({ username, runId }) {
      const config = configured();
      await person(username);
      const password = generatePassword();
      await dir().setPassword(username, password);
      const otpauthUri = await verifier.enrol(username, runId, config.mfaIssuer);
      const { linkId } = await storeCredentialLink(accounts, await verifierKey(), {
        runId,
        credentials: { username, password, otpauthUri },
      });
      const state = await dir().passwordState(username);
      return { linkId, mustChange: state.mustChange, mfa: 'totp' };
    },

    async revokeCredentials({ username, runId }) {
      const linksVoided = await accounts.voidLinksOf(runId, username);
      const mfa = await accounts.mfaSecret(username);
      const mfaRemoved = mfa?.runId === runId ? await accounts.deleteMfaSecret(username) : false;
      return { linksVoided, mfaRemoved };
    },

    async grantRoleAccess({ username, role: name }) {
      const r = await role(name);
      for (const group of unique([...r.groups, ...r.privilegedGroups])) await dir().addToGroup(group, username);
      for (const permission of r.permissions) await dir().grantPermission(permission, username);
      return { groups: await dir().groupsOf(username), permissions: await dir().permissionsOf(username) };
    },

    async revokeAccess({ username, groups, permissions }) {
      for (const group of groups) await dir().removeFromGroup(group, username);
      for (const permission of permissions) await dir().revokePermission(permission, username);
      return { groups: await dir().groupsOf(username), permissions: await dir().permissionsOf(username) };
    },

    async createHomeDrive({ username, role: name }) {
      const p = await person(username);
      const r = await role(name);
      const gids = Object.values(await dir().groupGids(r.homeAclGroups));
      return homes().create(username, p.uidNumber, p.gidNumber, { aclGids: gids });
    },

    async removeHomeDrive({ username }) {
      const p = await dir().findPerson(username);
      if (!p) return { removed: false };
      return { removed: await homes().remove(username, p.uidNumber) };
    },

    async setUpMailbox({ username }) {
      const config = configured();
      const p = await person(username);
      const mail = `${username}@${config.mail.domain}`;
      await dir().replaceAttributes(username, { mail });
      const maildir = await maildirs().create(username, p.uidNumber, p.gidNumber, { subfolders: ['cur', 'new', 'tmp'] });
      const sent = await deps.mailer.sendMail({
        to: mail,
        subject: `Welcome, ${p.cn}`,
        text: [
          `Welcome aboard, ${p.cn}.`,
          '',
          `Your username is ${username} and your mail address ${mail}.`,
          `Your home drive is ${p.homeDirectory} on ${config.fileServer.host.name}.`,
          'Your initial password and the enrolment of your authenticator app reach you once, through a separate link;',
          'you will be asked to choose a new password at your first login.',
        ].join('\n'),
      });
      return { mail, maildir, welcomeMessageId: sent.messageId };
    },

    async removeMailbox({ username }) {
      const p = await dir().findPerson(username);
      if (!p) return { removed: false };
      await dir().replaceAttributes(username, { mail: undefined });
      return { removed: await maildirs().remove(username, p.uidNumber) };
    },

    async testAccountAccess({ username, linkId, role: name }) {
      const p = await person(username);
      const r = await role(name);
      const { password } = await pending(linkId, username);
      const failures: string[] = [];
      if ((await dir().bindAs(username, password)) !== 'ok') failures.push('binding with the initial password failed');
      const state = await dir().passwordState(username);
      if (!state.mustChange) failures.push('the password is not flagged to be changed at first login');
      const groups = await dir().groupsOf(username);
      const permissions = await dir().permissionsOf(username);
      const missingGroups = unique([...r.groups, ...r.privilegedGroups]).filter((g) => !groups.includes(g));
      const missingPermissions = r.permissions.filter((g) => !permissions.includes(g));
      if (missingGroups.length) failures.push(`not in the groups ${missingGroups.join(', ')}`);
      if (missingPermissions.length) failures.push(`without the permissions ${missingPermissions.join(', ')}`);
      const code = await verifier.currentCode(username);
      if (!code || !(await verifier.verify(username, code))) failures.push('no TOTP code verifies');
      const home = await homes().checkAccess(username, p.uidNumber, p.gidNumber);
      if (!home.ownerWrites) failures.push(`${username} cannot write in the home drive`);
      if (!home.othersBlocked) failures.push('another user can write in the home drive');
      if (failures.length)
        throw ApplicationFailure.nonRetryable(`access test of ${username}: ${failures.join('; ')}`, AccountFailureType.accessTestFailed);
      return { bind: 'ok', mustChangePassword: state.mustChange, groups, permissions, totp: 'verified', home };
    },

    async deliverCredentials({ username, linkId, to }) {
      const config = configured();
      const { token } = await pending(linkId, username);
      const expiresAt = new Date(Date.now() + config.linkTtlSeconds * 1000).toISOString();
      // The expiry is set before the mail leaves, so the link works when it arrives; the pending
      // copy goes only once the relay took the mail, so a retry can send it again.
      await accounts.openLink(linkId, expiresAt);
      const sent = await deps.mailer.sendMail({
        to,
        subject: `Sign-in details for ${username}`,
        text: [
          `The account ${username} is ready.`,
          '',
          `Open this link once to see the initial password and the authenticator enrolment (it works once, until ${expiresAt}):`,
          `${config.linkBaseUrl}#${token}`,
          '',
          'The password must be changed at the first login.',
        ].join('\n'),
      });
      await accounts.clearPending(linkId);
      return { mailedTo: to, messageId: sent.messageId, expiresAt };
    },

    async resetPassword({ username, runId, resetMfa }) {
      const config = configured();
      await person(username);
      // A retried attempt leaves no earlier link of this run behind.
      await accounts.voidLinksOf(runId, username);
      const before = await dir().passwordState(username);
      const password = generatePassword();
      await dir().setPassword(username, password);
      if (before.locked) await dir().clearLockout(username);
      const otpauthUri = resetMfa ? await verifier.enrol(username, runId, config.mfaIssuer) : undefined;
      const { linkId } = await storeCredentialLink(accounts, await verifierKey(), {
        runId,
        credentials: { username, password, otpauthUri },
      });
      const after = await dir().passwordState(username);
      if (after.locked)
        throw ApplicationFailure.retryable(`${username} is still locked after the reset`, AccountFailureType.accessTestFailed);
      return {
        linkId,
        wasLocked: before.locked,
        failedBindsBefore: before.failedBinds,
        mustChange: after.mustChange,
        mfaReenrolled: resetMfa,
      };
    },

    async lockAccount({ username }) {
      const p = await person(username);
      await dir().lock(username);
      const linksVoided = await accounts.voidAllLinksOf(username);
      const mfaRemoved = await accounts.deleteMfaSecret(username);
      const managerUid = p.manager?.match(/^uid=([^,]+),/)?.[1];
      const manager = managerUid ? await dir().findPerson(managerUid) : undefined;
      return {
        locked: (await dir().passwordState(username)).locked,
        mfaRemoved,
        linksVoided,
        manager: manager?.uid,
        managerMail: manager?.mail,
      };
    },

    async removeAllAccess({ username }) {
      const groups = await dir().groupsOf(username);
      const permissions = await dir().permissionsOf(username);
      for (const group of groups) await dir().removeFromGroup(group, username);
      for (const permission of permissions) await dir().revokePermission(permission, username);
      const left = [...(await dir().groupsOf(username)), ...(await dir().permissionsOf(username))];
      if (left.length)
        throw ApplicationFailure.retryable(`${username} still holds ${left.join(', ')}`, AccountFailureType.accessTestFailed);
      return { groups, permissions };
    },

    async archiveHomeDrive({ username, runId }) {
      const config = configured();
      const p = await person(username);
      if (!(await homes().exists(username))) return { removed: false };
      const name = `${username}-${runId.replace(/[^A-Za-z0-9._-]/g, '_')}`;
      const archive = await homes().archive(username, config.fileServer.archiveRoot, name);
      return { archive, removed: await homes().remove(username, p.uidNumber) };
    },

    async setMailForward({ username, to }) {
      const p = await person(username);
      await maildirs().writeFile(username, '.forward', p.uidNumber, p.gidNumber, to);
      return { forwardTo: to };
    },

    async deleteAccount({ username }) {
      const p = await dir().findPerson(username);
      const maildirRemoved = p ? await maildirs().remove(username, p.uidNumber) : false;
      await accounts.deleteMfaSecret(username);
      return { entryDeleted: await dir().deletePerson(username), maildirRemoved };
    },

    async planAccessChange({ username, fromRole, toRole }) {
      await person(username);
      const [from, to] = [await role(fromRole), await role(toRole)];
      const groups = await dir().groupsOf(username);
      const permissions = await dir().permissionsOf(username);
      const toGroups = unique([...to.groups, ...to.privilegedGroups]);
      const fromGroups = unique([...from.groups, ...from.privilegedGroups]);
      return {
        addGroups: toGroups.filter((g) => !groups.includes(g)).sort(),
        // Only what the old role gave: groups given by hand stay.
        removeGroups: fromGroups.filter((g) => groups.includes(g) && !toGroups.includes(g)).sort(),
        addPermissions: to.permissions.filter((p) => !permissions.includes(p)).sort(),
        removePermissions: from.permissions.filter((p) => permissions.includes(p) && !to.permissions.includes(p)).sort(),
      };
    },

    async applyAccessChange({ username, diff, department }) {
      for (const group of diff.addGroups) await dir().addToGroup(group, username);
      for (const group of diff.removeGroups) await dir().removeFromGroup(group, username);
      for (const permission of diff.addPermissions) await dir().grantPermission(permission, username);
      for (const permission of diff.removePermissions) await dir().revokePermission(permission, username);
      if (department) await dir().replaceAttributes(username, { departmentNumber: department });
      return { groups: await dir().groupsOf(username), permissions: await dir().permissionsOf(username) };
    },

    async accountLeftovers({ username }) {
      const left: string[] = [];
      if (await dir().findPerson(username)) left.push('directory entry');
      left.push(...(await dir().groupsOf(username)).map((g) => `group ${g}`));
      left.push(...(await dir().permissionsOf(username)).map((g) => `permission ${g}`));
      if (await homes().exists(username)) left.push(`home drive ${homes().pathOf(username)}`);
      if (await maildirs().exists(username)) left.push(`Maildir ${maildirs().pathOf(username)}`);
      if (await accounts.mfaSecret(username)) left.push('TOTP secret');
      return left;
    },

    async notifyAccountHolder({ username, subject, text }) {
      const p = await person(username);
      if (!p.mail) return {};
      const sent = await deps.mailer.sendMail({ to: p.mail, subject, text });
      return { mailedTo: p.mail, messageId: sent.messageId };
    },
  };
}

/** Username from the name: first initial and surname, ASCII-folded, lowercase, at most 20 characters. */
export function usernameStem(givenName: string, surname: string): string {
  const fold = (s: string) =>
    s
      .normalize('NFKD')
      .replace(/\p{M}/gu, '')
      .toLowerCase()
      .replace(/[^a-z]/g, '');
  const stem = `${fold(givenName).slice(0, 1)}${fold(surname)}`.slice(0, 20);
  return /^[a-z]/.test(stem) ? stem : `u${stem}`.slice(0, 20);
}

function unique<T>(items: T[]): T[] {
  return [...new Set(items)];
}

/**
 * Stores a one-time link to `credentials`: sealed with a key derived from a new token (which
 * only the link carries), plus a copy of the password and token sealed with the verifier's key
 * until the link is sent. Not redeemable until opened (openLink sets its expiry).
 */
export async function storeCredentialLink(
  accounts: AccountsRepository,
  verifierKey: Buffer,
  { runId, credentials }: { runId: string; credentials: RedeemedCredentials },
): Promise<{ linkId: string; token: string }> {
  const token = generateToken();
  const linkId = randomUUID();
  const { username, password } = credentials;
  await accounts.createLink({
    id: linkId,
    tokenSha256: sha256Hex(token),
    runId,
    username,
    sealed: seal(keyFromToken(token), JSON.stringify(credentials), `link:${username}`),
    pendingSealed: seal(verifierKey, JSON.stringify({ password, token } satisfies PendingCredentials), `pending:${linkId}:${username}`),
    expiresAt: new Date(0).toISOString(),
  });
  return { linkId, token };
}
