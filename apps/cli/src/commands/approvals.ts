import type { Command } from 'commander';
import type { GateRecord, PendingApproval } from '../api-types';
import { shortTime, table } from '../output';
import type { ActionFactory } from '../command-kit';

export function registerApprovalCommands(program: Command, action: ActionFactory): void {
  const approvals = program.command('approvals').description('Approvals waiting for you; approve or reject them');

  approvals
    .command('ls')
    .alias('list')
    .description('The approvals you may decide (not your own runs, not ones you decided)')
    .action(
      action(async (ctx) => {
        const { approvals: list } = await ctx.client().get<{ approvals: PendingApproval[] }>('/v1/approvals');
        ctx.out.result({ approvals: list }, () =>
          list.length === 0
            ? 'no approvals waiting for you'
            : table(
                ['RUN', 'GATE', 'TITLE', 'REQUESTED BY', 'APPROVALS', 'DEADLINE'],
                list.map((a) => [
                  a.runId,
                  a.gateId,
                  a.title,
                  a.requestedBy.id,
                  `${a.decisions.filter((d) => d.decision === 'approve').length}/${a.requiredApprovals}`,
                  shortTime(a.deadline),
                ]),
              ),
        );
      }),
    );

  for (const decision of ['approve', 'reject'] as const) {
    approvals
      .command(`${decision} <runId> <gateId>`)
      .description(`${decision === 'approve' ? 'Approve' : 'Reject'} an approval gate of a run`)
      .option('-m, --comment <text>', 'why (recorded in the run and its report)', '')
      .action(
        action(async (ctx, runId: string, gateId: string, options: { comment: string }) => {
          const gate = await ctx
            .client()
            .post<GateRecord>(`/v1/runs/${encodeURIComponent(runId)}/approvals/${encodeURIComponent(gateId)}`, {
              decision,
              comment: options.comment,
            });
          const approvalsGiven = gate.decisions.filter((d) => d.decision === 'approve').length;
          ctx.out.result(
            gate,
            () =>
              `${decision === 'approve' ? 'approved' : 'rejected'} ${gateId} of ${runId}: the gate is ${gate.state} (${approvalsGiven}/${gate.requiredApprovals} approvals)`,
          );
        }),
      );
  }
}
