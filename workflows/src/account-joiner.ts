import { sleep } from '@temporalio/workflow';
import { accountJoinerRunbook, type AccountJoinerInput, type RunState, type RunbookStartArgs } from '@runbooks/contracts';
import { RunbookRun, now } from './engine/run';

/**
 * Account joiner (shared/docs/runbooks.md, user account provisioning): on the start date, a
 * unique username, an approval when the role is privileged, the directory entry, a strong
 * password with pwdReset and a TOTP enrolment (both stay inside activities and the store; the
 * run holds the link's id only), the role's groups and permissions, the home drive, the mailbox,
 * a test of the access, and last the one-time link. A failure undoes every step in reverse.
 */
export async function accountJoiner(args: RunbookStartArgs<AccountJoinerInput>): Promise<RunState> {
  const run = new RunbookRun(accountJoinerRunbook, args);
  const input = args.input;
  const runId = run.state.runId;

  return run.execute(async () => {
    await run.step(
      'wait-for-start-date',
      async () => {
        const waitMs = input.startDate ? Date.parse(input.startDate) - Date.parse(now()) : 0;
        if (waitMs > 0) await sleep(waitMs);
        return { waitedMs: Math.max(0, waitMs) };
      },
      { summarize: (r) => (r.waitedMs > 0 ? `waited until ${input.startDate}` : 'started at once') },
    );

    const { role, ...chosen } = await run.step(
      'choose-username',
      async (a) => ({
        role: await a.accountRole({ role: input.role }),
        ...(await a.chooseUsername({ givenName: input.givenName, surname: input.surname, runId })),
      }),
      {
        summarize: (r) => `${r.username} for the role ${r.role.name}${r.taken.length ? ` (taken already: ${r.taken.join(', ')})` : ''}`,
        details: (r) => ({ username: r.username, taken: r.taken, role: r.role.name, privilegedGroups: r.role.privilegedGroups }),
      },
    );
    const username = chosen.username;
    run.setOutcome({ username, role: role.name });

    if (role.privilegedGroups.length > 0) {
      await run.approval(
        'approve-privileged-role',
        `Give ${input.givenName} ${input.surname} (${username}) the privileged groups ${role.privilegedGroups.join(', ')}`,
        {
          allowedRoles: ['approver'],
          requiredApprovals: 1,
          timeoutMs: input.approval.timeoutSeconds * 1000,
          escalation: [{ tier: 2, contact: input.approval.escalationContact }],
        },
      );
    }

    run.onUndo('create-entry', `Delete the directory entry of ${username}`, (a) => a.deleteAccountEntry({ username, runId }));
    const entry = await run.step(
      'create-entry',
      (a) =>
        a.createAccountEntry({
          username,
          givenName: input.givenName,
          surname: input.surname,
          department: input.department,
          manager: input.manager,
          runId,
        }),
      {
        summarize: (e) => `${e.dn}, uidNumber ${e.uidNumber}, gidNumber ${e.gidNumber}`,
        details: (e) => ({
          dn: e.dn,
          uidNumber: e.uidNumber,
          gidNumber: e.gidNumber,
          homeDirectory: e.homeDirectory,
          manager: input.manager,
          department: input.department,
        }),
      },
    );

    run.onUndo('issue-credentials', `Void the credential link and the TOTP enrolment of ${username}`, (a) =>
      a.revokeCredentials({ username, runId }),
    );
    const credentials = await run.step('issue-credentials', (a) => a.issueCredentials({ username, runId }), {
      summarize: (c) =>
        `initial password set (${c.mustChange ? 'change at first login' : 'NOT flagged for change'}), TOTP enrolled, link ${c.linkId} ready`,
      details: (c) => ({ linkId: c.linkId, mustChangePassword: c.mustChange, mfa: c.mfa }),
    });

    run.onUndo('grant-role-access', `Remove ${username} from the role's groups and permissions`, (a) =>
      a.revokeAccess({ username, groups: [...role.groups, ...role.privilegedGroups], permissions: role.permissions }),
    );
    await run.step('grant-role-access', (a) => a.grantRoleAccess({ username, role: role.name }), {
      summarize: (r) => `groups ${r.groups.join(', ') || 'none'}; permissions ${r.permissions.join(', ') || 'none'}`,
      details: (r) => ({ groups: r.groups, permissions: r.permissions }),
    });

    run.onUndo('create-home-drive', `Remove the home drive of ${username}`, (a) => a.removeHomeDrive({ username }));
    await run.step('create-home-drive', (a) => a.createHomeDrive({ username, role: role.name }), {
      summarize: (h) => `${h.path} on ${h.host}, owner ${h.uid}:${h.gid}, mode ${h.mode}${h.acl.length ? `, ACL ${h.acl.join(' ')}` : ''}`,
      details: (h) => ({ host: h.host, path: h.path, owner: `${h.uid}:${h.gid}`, mode: h.mode, acl: h.acl }),
    });

    run.onUndo('set-up-mailbox', `Remove the mailbox of ${username}`, (a) => a.removeMailbox({ username }));
    await run.step('set-up-mailbox', (a) => a.setUpMailbox({ username, runId }), {
      summarize: (m) => `${m.mail}, Maildir ${m.maildir.path} on ${m.maildir.host}, welcome message sent`,
      details: (m) => ({ mail: m.mail, maildir: m.maildir.path, mailHost: m.maildir.host, welcomeMessageId: m.welcomeMessageId }),
    });

    await run.step('test-access', (a) => a.testAccountAccess({ username, linkId: credentials.linkId, role: role.name }), {
      summarize: (t) =>
        `bind ok (password change due at first login: ${t.mustChangePassword ? 'yes' : 'no'}), ${t.groups.length} groups, ${t.permissions.length} permissions, ` +
        `TOTP code verified, home drive writable by ${username} only`,
      details: (t) => ({ ...t }),
    });
    run.setOutcome({ uidNumber: entry.uidNumber, homeDirectory: entry.homeDirectory });

    const delivered = await run.step(
      'deliver-credentials',
      (a) => a.deliverCredentials({ username, linkId: credentials.linkId, to: input.deliverCredentialsTo }),
      {
        summarize: (d) => `one-time link ${credentials.linkId} sent to ${d.mailedTo}, valid once until ${d.expiresAt}`,
        details: (d) => ({ linkId: credentials.linkId, mailedTo: d.mailedTo, expiresAt: d.expiresAt }),
      },
    );
    // The person holds their credentials now: the account stays whatever fails after.
    run.pointOfNoReturn();
    run.setOutcome({ credentialsSentTo: delivered.mailedTo, linkExpiresAt: delivered.expiresAt });
  });
}
