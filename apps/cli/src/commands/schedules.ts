import { Option, type Command } from 'commander';
import type { ScheduleActionAccepted, ScheduleSummary, ScheduleView } from '../api-types';
import { shortTime, table } from '../output';
import { readJsonFile, type ActionFactory } from '../command-kit';

const OVERLAP_POLICIES = ['skip', 'buffer_one', 'buffer_all', 'cancel_other', 'allow_all'];

const schedulePath = (id: string) => `/v1/schedules/${encodeURIComponent(id)}`;

function describeSchedule(s: ScheduleView): string {
  return [
    `schedule ${s.id} (${s.runbook})${s.paused ? ' PAUSED' : ''}`,
    `  note:         ${s.note || '-'}`,
    `  requested by: ${s.requestedBy ?? '-'} (created by ${s.createdBy ?? '-'} at ${s.createdAt})`,
    `  spec:         ${JSON.stringify(s.spec)}`,
    `  policies:     ${JSON.stringify(s.policies)}`,
    `  input sha256: ${s.inputSha256 ?? '-'}`,
    `  runs:         ${s.runs.total} started, ${s.runs.skippedOverlap} skipped (overlap), ${s.runs.missedCatchupWindow} missed`,
    'next fire times (UTC):',
    ...s.nextFireTimes.slice(0, 10).map((t) => `  ${t}`),
    ...(s.recentActions.length ? ['recent runs:', ...s.recentActions.map((a) => `  ${a.runId} (for ${a.scheduledAt})`)] : []),
  ].join('\n');
}

export function registerScheduleCommands(program: Command, action: ActionFactory): void {
  const schedules = program.command('schedules').description('Runbooks on a calendar (Temporal Schedules)');

  schedules
    .command('ls')
    .alias('list')
    .description('List the schedules')
    .action(
      action(async (ctx) => {
        const { schedules: list } = await ctx.client().get<{ schedules: ScheduleSummary[] }>('/v1/schedules');
        ctx.out.result({ schedules: list }, () =>
          table(
            ['ID', 'RUNBOOK', 'PAUSED', 'NEXT FIRE', 'NOTE'],
            list.map((s) => [s.id, s.runbook, s.paused ? 'yes' : 'no', shortTime(s.nextFireTime), s.note]),
          ),
        );
      }),
    );

  schedules
    .command('show <id>')
    .description('Show a schedule, its next fire times and recent runs')
    .action(
      action(async (ctx, id: string) => {
        const schedule = await ctx.client().get<ScheduleView>(schedulePath(id));
        ctx.out.result(schedule, () => describeSchedule(schedule));
      }),
    );

  schedules
    .command('create')
    .description('Create a schedule from a JSON file { id, runbook, input, spec, policies?, note? }')
    .requiredOption('-f, --file <schedule.json>', 'the schedule ("-" reads stdin)')
    .action(
      action(async (ctx, options: { file: string }) => {
        const schedule = await ctx.client().post<ScheduleView>('/v1/schedules', readJsonFile(options.file));
        ctx.out.result(schedule, () => `created ${schedule.id}\n${describeSchedule(schedule)}`);
      }),
    );

  schedules
    .command('trigger <id>')
    .description('Start one run of the schedule now (even while paused)')
    .addOption(new Option('--overlap <policy>', 'if a run of it is still running').choices(OVERLAP_POLICIES))
    .action(
      action(async (ctx, id: string, options: { overlap?: string }) => {
        const accepted = await ctx
          .client()
          .post<ScheduleActionAccepted>(`${schedulePath(id)}/trigger`, options.overlap ? { overlap: options.overlap } : {});
        ctx.out.result(accepted, () => `triggered ${id} at ${accepted.requestedAt}: runbooks runs ls --schedule ${id}`);
      }),
    );

  for (const verb of ['pause', 'unpause'] as const) {
    schedules
      .command(`${verb} <id>`)
      .description(verb === 'pause' ? 'Pause a schedule: no run starts at its fire times' : 'Unpause a schedule')
      .option('--note <text>', 'why (shown as the schedule note)')
      .action(
        action(async (ctx, id: string, options: { note?: string }) => {
          const schedule = await ctx.client().post<ScheduleView>(`${schedulePath(id)}/${verb}`, options.note ? { note: options.note } : {});
          ctx.out.result(schedule, () => `${id} is ${schedule.paused ? 'paused' : 'running'}`);
        }),
      );
  }

  schedules
    .command('delete <id>')
    .description('Delete a schedule (runs it started go on)')
    .action(
      action(async (ctx, id: string) => {
        await ctx.client().delete(schedulePath(id));
        ctx.out.result({ id, deleted: true }, () => `deleted ${id}`);
      }),
    );
}
