import { ApplicationFailure } from '@temporalio/workflow';
import { accountMoverRunbook, type AccessDiff, type AccountMoverInput, type RunState, type RunbookStartArgs } from '@runbooks/contracts';
import { RunbookRun } from './engine/run';

/** The diff in one line, for the approver and the report. */
function describeDiff(d: AccessDiff): string {
  const part = (label: string, items: string[]) => (items.length ? `${label} ${items.join(', ')}` : '');
  return (
    [
      part('+groups', d.addGroups),
      part('-groups', d.removeGroups),
      part('+permissions', d.addPermissions),
      part('-permissions', d.removePermissions),
    ]
      .filter(Boolean)
      .join('; ') || 'no change'
  );
}

/** The reverse of a diff: what the undo applies. */
function reverse(d: AccessDiff): AccessDiff {
  return { addGroups: d.removeGroups, removeGroups: d.addGroups, addPermissions: d.removePermissions, removePermissions: d.addPermissions };
}

/**
 * Account mover: the role change becomes a group and permission diff, the approver sees it,
 * the run applies it and checks the result; if the check fails the old access is put back.
 */
export async function accountMover(args: RunbookStartArgs<AccountMoverInput>): Promise<RunState> {
  const run = new RunbookRun(accountMoverRunbook, args);
  const { username, fromRole, toRole, department, approval } = args.input;

  return run.execute(async () => {
    const diff = await run.step('plan-move', (a) => a.planAccessChange({ username, fromRole, toRole }), {
      summarize: describeDiff,
      details: (d) => ({ ...d }),
    });
    run.setOutcome({ username, fromRole, toRole, changes: describeDiff(diff) });

    await run.approval('approve-move', `Move ${username} from ${fromRole} to ${toRole}: ${describeDiff(diff)}`, {
      allowedRoles: ['approver'],
      requiredApprovals: 1,
      timeoutMs: approval.timeoutSeconds * 1000,
      escalation: [{ tier: 2, contact: approval.escalationContact }],
    });

    run.onUndo('apply-move', `Put back the groups and permissions of ${username}: ${describeDiff(reverse(diff))}`, (a) =>
      a.applyAccessChange({ username, diff: reverse(diff) }),
    );
    await run.step('apply-move', (a) => a.applyAccessChange({ username, diff, department }), {
      summarize: (r) => `now in groups ${r.groups.join(', ') || 'none'}; permissions ${r.permissions.join(', ') || 'none'}`,
      details: (r) => ({ ...r, department }),
    });

    await run.step(
      'test-access',
      async (a) => {
        const after = await a.planAccessChange({ username, fromRole, toRole });
        const missing = [...after.addGroups, ...after.addPermissions];
        const extra = [...after.removeGroups, ...after.removePermissions];
        if (missing.length || extra.length) {
          throw ApplicationFailure.nonRetryable(
            `after the move ${username} still lacks ${missing.join(', ') || 'nothing'} and holds ${extra.join(', ') || 'nothing'} of the old role`,
          );
        }
        return after;
      },
      { summarize: () => `${username} holds exactly what ${toRole} gives` },
    );
  });
}
