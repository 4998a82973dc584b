import type { Command } from 'commander';
import type { OpenTask, TaskRecord } from '../api-types';
import { readJsonFile, type ActionFactory } from '../command-kit';
import { UsageError } from '../config';
import { shortTime, table } from '../output';

const taskPath = (runId: string, taskId: string, action: string) =>
  `/v1/runs/${encodeURIComponent(runId)}/tasks/${encodeURIComponent(taskId)}/${action}`;

/** "tier1", or "tier1 → tier2 (overdue)" once it escalated. */
function tierText(task: Pick<OpenTask, 'assignedRole' | 'eligibleRoles' | 'overdue'>): string {
  const ladder = task.eligibleRoles.length > 1 ? task.eligibleRoles.join(' → ') : task.assignedRole;
  return task.overdue ? `${ladder} (overdue)` : ladder;
}

function taskSummary(verb: string, runId: string, task: TaskRecord): string {
  const holder = task.claimedBy ? `, claimed by ${task.claimedBy.id}` : '';
  return `${verb} ${task.id} of ${runId}: the task is ${task.state}${holder}`;
}

export function registerTaskCommands(program: Command, action: ActionFactory): void {
  const tasks = program.command('tasks').description('Human tasks of running runs: list, claim, release, complete with evidence');

  tasks
    .command('ls')
    .alias('list')
    .description('Open human tasks (every open task unless filtered)')
    .option('--mine', 'only tasks you claimed (or that were reassigned to you)')
    .option('--my-roles', 'only tasks you may claim: you hold one of their roles')
    .option('--overdue', 'only tasks past an SLA deadline')
    .action(
      action(async (ctx, options: { mine?: boolean; myRoles?: boolean; overdue?: boolean }) => {
        const { tasks: list } = await ctx.client().get<{ tasks: OpenTask[] }>('/v1/tasks', {
          mine: options.mine,
          myRoles: options.myRoles,
          overdue: options.overdue,
        });
        ctx.out.result({ tasks: list }, () =>
          list.length === 0
            ? 'no open tasks'
            : table(
                ['RUN', 'TASK', 'TITLE', 'STATE', 'TIER', 'CLAIMED BY', 'DEADLINE'],
                list.map((t) => [t.runId, t.taskId, t.title, t.state, tierText(t), t.claimedBy?.id, shortTime(t.deadline)]),
              ),
        );
      }),
    );

  tasks
    .command('show <runId> <taskId>')
    .description("A task's instructions, tier, escalations and evidence form")
    .action(
      action(async (ctx, runId: string, taskId: string) => {
        const { tasks: list } = await ctx.client().get<{ tasks: OpenTask[] }>('/v1/tasks');
        const task = list.find((t) => t.runId === runId && t.taskId === taskId);
        if (!task) throw new UsageError(`no open task ${taskId} in run ${runId}`);
        ctx.out.result(task, () =>
          [
            `${task.title} (${task.taskId} of ${task.runId}, ${task.runbook})`,
            `state:     ${task.state}${task.claimedBy ? ` by ${task.claimedBy.id}` : ''}`,
            `tier:      ${tierText(task)}`,
            `deadline:  ${shortTime(task.deadline)}`,
            ...task.escalations.map((e) => `escalated: tier ${e.tier} to ${e.contact} at ${shortTime(e.at)}: ${e.reason}`),
            '',
            task.instructions,
            '',
            'evidence form (JSON Schema):',
            JSON.stringify(task.evidenceForm, null, 2),
          ].join('\n'),
        );
      }),
    );

  tasks
    .command('claim <runId> <taskId>')
    .description('Take a task on (you must hold one of its roles)')
    .action(
      action(async (ctx, runId: string, taskId: string) => {
        const task = await ctx.client().post<TaskRecord>(taskPath(runId, taskId, 'claim'), {});
        ctx.out.result(task, () => taskSummary('claimed', runId, task));
      }),
    );

  tasks
    .command('release <runId> <taskId>')
    .description('Give a task you claimed back to its roles')
    .option('-m, --comment <text>', 'why (recorded in the run and its report)')
    .action(
      action(async (ctx, runId: string, taskId: string, options: { comment?: string }) => {
        const task = await ctx.client().post<TaskRecord>(taskPath(runId, taskId, 'release'), { comment: options.comment });
        ctx.out.result(task, () => taskSummary('released', runId, task));
      }),
    );

  tasks
    .command('complete <runId> <taskId>')
    .description('Complete a task you claimed with its evidence (a JSON object fitting its form: see "tasks show")')
    .requiredOption('-f, --file <evidence.json>', 'the evidence as JSON ("-" reads stdin)')
    .option('-m, --comment <text>', 'a note kept with the evidence')
    .action(
      action(async (ctx, runId: string, taskId: string, options: { file: string; comment?: string }) => {
        const evidence = readJsonFile(options.file);
        const task = await ctx.client().post<TaskRecord>(taskPath(runId, taskId, 'complete'), { evidence, comment: options.comment });
        ctx.out.result(task, () => taskSummary('completed', runId, task));
      }),
    );
}
