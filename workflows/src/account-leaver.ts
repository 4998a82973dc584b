import { sleep } from '@temporalio/workflow';
import { accountLeaverRunbook, type AccountLeaverInput, type RunState, type RunbookStartArgs } from '@runbooks/contracts';
import { RunbookRun, now } from './engine/run';

const DAY_MS = 24 * 3600 * 1000;

/**
 * Account leaver: access ends on the last day (or now, for an approved dismissal) and is never
 * given back by an undo: a failure or a cancel leaves the account locked. After the retention
 * period (a durable timer a cancel stops, e.g. for a legal hold) the account is deleted, and the
 * last step checks that nothing of it is left.
 */
export async function accountLeaver(args: RunbookStartArgs<AccountLeaverInput>): Promise<RunState> {
  const run = new RunbookRun(accountLeaverRunbook, args);
  const { username, lastDay, dismissal, forwardDays, retentionDays, approval } = args.input;
  const runId = run.state.runId;

  return run.execute(async () => {
    if (dismissal) {
      await run.approval('approve-dismissal', `End the access of ${username} now (dismissal)`, {
        allowedRoles: ['approver'],
        requiredApprovals: 1,
        timeoutMs: approval.timeoutSeconds * 1000,
        escalation: [{ tier: 2, contact: approval.escalationContact }],
      });
    } else {
      await run.step(
        'wait-for-last-day',
        async () => {
          const waitMs = lastDay ? Date.parse(lastDay) - Date.parse(now()) : 0;
          if (waitMs > 0) await sleep(waitMs);
          return { waitedMs: Math.max(0, waitMs) };
        },
        { summarize: (r) => (r.waitedMs > 0 ? `waited until ${lastDay}` : 'access ends now') },
      );
    }

    const locked = await run.step('lock-account', (a) => a.lockAccount({ username }), {
      summarize: (l) =>
        `locked; TOTP secret ${l.mfaRemoved ? 'removed' : 'none enrolled'}; ${l.linksVoided} unredeemed credential link(s) voided`,
      details: (l) => ({ locked: l.locked, mfaRemoved: l.mfaRemoved, linksVoided: l.linksVoided, manager: l.manager }),
    });
    // From here the leaver has no access: nothing is given back, whatever fails or is cancelled.
    run.pointOfNoReturn();

    const removed = await run.step('remove-access', (a) => a.removeAllAccess({ username }), {
      summarize: (r) => `removed from groups ${r.groups.join(', ') || 'none'}; permissions revoked ${r.permissions.join(', ') || 'none'}`,
      details: (r) => ({ groups: r.groups, permissions: r.permissions }),
    });
    const home = await run.step('archive-home-drive', (a) => a.archiveHomeDrive({ username, runId }), {
      summarize: (h) =>
        h.archive
          ? `archived to ${h.archive.path} (${h.archive.bytes} bytes, sha256 ${h.archive.sha256}), home drive removed`
          : 'no home drive',
      details: (h) => ({ ...h.archive, homeDriveRemoved: h.removed }),
    });
    run.setOutcome({
      username,
      groupsRemoved: removed.groups,
      permissionsRevoked: removed.permissions,
      homeArchive: home.archive?.path,
      homeArchiveSha256: home.archive?.sha256,
    });

    const forwardTo = args.input.forwardMailTo ?? locked.managerMail;
    await run.step(
      'forward-mail',
      async (a) => (forwardTo && forwardDays > 0 ? a.setMailForward({ username, to: forwardTo }) : ({} as { forwardTo?: string })),
      {
        summarize: (f) =>
          f.forwardTo ? `mail forwarded to ${f.forwardTo} for ${forwardDays} day(s)` : 'no forward (no address or no period)',
      },
    );

    await run.step(
      'wait-retention',
      async (a) => {
        const forwardMs = forwardTo ? Math.min(forwardDays, retentionDays) * DAY_MS : 0;
        if (forwardMs > 0) await sleep(forwardMs);
        if (forwardTo && forwardDays > 0) await a.setMailForward({ username });
        const restMs = retentionDays * DAY_MS - forwardMs;
        if (restMs > 0) await sleep(restMs);
        return { retentionDays, forwardStopped: forwardTo !== undefined && forwardDays > 0 };
      },
      { summarize: (w) => `kept locked for ${w.retentionDays} day(s)${w.forwardStopped ? '; forward stopped' : ''}` },
    );

    const deleted = await run.step(
      'delete-account',
      async (a) => {
        const done = await a.deleteAccount({ username });
        const left = await a.accountLeftovers({ username });
        if (left.length) throw new Error(`left behind: ${left.join(', ')}`);
        return done;
      },
      {
        summarize: (d) =>
          `entry ${d.entryDeleted ? 'deleted' : 'already gone'}, Maildir ${d.maildirRemoved ? 'removed' : 'already gone'}; nothing left`,
      },
    );
    run.setOutcome({ deleted: deleted.entryDeleted });
  });
}
