import {
  identityVerificationForm,
  passwordResetRunbook,
  type IdentityVerification,
  type PasswordResetInput,
  type RunState,
  type RunbookStartArgs,
} from '@runbooks/contracts';
import { RunbookRun } from './engine/run';

/**
 * Password reset (shared/docs/runbooks.md: the most common request): the 1st line verifies the
 * caller as a human task with evidence; a TOTP reset waits for an approver; then a temporary
 * password with pwdReset, the lockout cleared, the one-time link sent, the holder told.
 */
export async function passwordReset(args: RunbookStartArgs<PasswordResetInput>): Promise<RunState> {
  const run = new RunbookRun(passwordResetRunbook, args);
  const { username, deliverCredentialsTo, resetMfa, ticket, slaSeconds, approval } = args.input;
  const runId = run.state.runId;

  return run.execute(async () => {
    const identity = await run.task<IdentityVerification>('verify-identity', {
      title: `Verify the identity of the caller asking to reset ${username}'s password`,
      instructions: [
        `1. Do not trust the caller ID or what the caller says about themselves.`,
        `2. Verify that the caller is ${username}: call back the number on file, see a photo ID in person or on video, or have their manager confirm.`,
        `3. Record how you verified them and what you checked; tick the box only when verified.`,
        `The temporary password goes to ${deliverCredentialsTo} once you complete this task${resetMfa ? ', with a new authenticator enrolment after an approval' : ''}.`,
      ].join('\n'),
      assignee: 'tier1',
      evidence: identityVerificationForm,
      slaMs: slaSeconds * 1000,
    });
    run.setOutcome({ username, identityVerifiedBy: identity.method });

    if (resetMfa) {
      await run.approval('approve-mfa-reset', `Reset the authenticator (TOTP) of ${username}, caller verified by ${identity.method}`, {
        allowedRoles: ['approver'],
        requiredApprovals: 1,
        timeoutMs: approval.timeoutSeconds * 1000,
        escalation: [{ tier: 2, contact: approval.escalationContact }],
      });
    }

    const reset = await run.step('reset-password', (a) => a.resetPassword({ username, runId, resetMfa }), {
      summarize: (r) =>
        `temporary password set (${r.mustChange ? 'change at first login' : 'NOT flagged for change'})` +
        `${r.wasLocked ? `, lockout cleared (${r.failedBindsBefore} failed logins)` : ', account was not locked'}${r.mfaReenrolled ? ', TOTP re-enrolled' : ''}`,
      details: (r) => ({ ...r }),
    });
    // The old password is gone: nothing to undo from here.
    run.pointOfNoReturn();
    run.setOutcome({ lockoutCleared: reset.wasLocked, mfaReenrolled: reset.mfaReenrolled });

    const delivered = await run.step(
      'deliver-credentials',
      (a) => a.deliverCredentials({ username, linkId: reset.linkId, to: deliverCredentialsTo }),
      {
        summarize: (d) => `one-time link ${reset.linkId} sent to ${d.mailedTo}, valid once until ${d.expiresAt}`,
        details: (d) => ({ linkId: reset.linkId, mailedTo: d.mailedTo, expiresAt: d.expiresAt }),
      },
    );
    run.setOutcome({ credentialsSentTo: delivered.mailedTo });

    await run.step(
      'notify-account-holder',
      (a) =>
        a.notifyAccountHolder({
          username,
          subject: `Your password was reset`,
          text: [
            `The password of ${username} was reset at the service desk${ticket ? ` (ticket ${ticket})` : ''}; a one-time link to a temporary password went to ${deliverCredentialsTo}.`,
            resetMfa ? 'Your authenticator app must be enrolled again through that link.' : '',
            'If you did not ask for this, call the service desk now.',
          ]
            .filter(Boolean)
            .join('\n'),
        }),
      { summarize: (n) => (n.mailedTo ? `${n.mailedTo} told` : 'no mail address in the directory: nobody told') },
    );
  });
}
