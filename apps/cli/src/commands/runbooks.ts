import type { Command } from 'commander';
import type { RunbookSummary } from '../api-types';
import { table } from '../output';
import type { ActionFactory } from '../command-kit';

export function registerRunbookCommands(program: Command, action: ActionFactory): void {
  const runbooks = program.command('runbooks').description('The runbooks the API offers');

  runbooks
    .command('list')
    .alias('ls')
    .description('List the runbooks')
    .action(
      action(async (ctx) => {
        const { runbooks: list } = await ctx.client().get<{ runbooks: RunbookSummary[] }>('/v1/runbooks');
        ctx.out.result({ runbooks: list }, () =>
          table(
            ['NAME', 'TITLE', 'SUMMARY'],
            list.map((r) => [r.name, r.title, r.summary]),
          ),
        );
      }),
    );

  runbooks
    .command('show <name>')
    .description("Show a runbook: its steps and its input's JSON Schema")
    .action(
      action(async (ctx, name: string) => {
        const runbook = await ctx.client().get<RunbookSummary>(`/v1/runbooks/${encodeURIComponent(name)}`);
        ctx.out.result(runbook, () =>
          [`${runbook.title} (${runbook.name})`, runbook.summary, '', 'input schema:', JSON.stringify(runbook.inputSchema, null, 2)].join(
            '\n',
          ),
        );
      }),
    );
}
