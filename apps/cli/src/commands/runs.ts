import { Option, type Command } from 'commander';
import type { LaunchedRun, RunDetail, RunSummary, RunState } from '../api-types';
import { UsageError } from '../config';
import { ExitCode } from '../exit-codes';
import { shortTime, table } from '../output';
import { positiveInt, readJsonFile, type ActionFactory } from '../command-kit';
import { describeRun } from '../render';
import { watchRun } from '../watch';

const DEFAULT_INTERVAL_MS = 1000;

const RUN_STATUSES = ['running', 'awaiting_approval', 'compensating', 'succeeded', 'failed', 'rejected', 'cancelled'];

const runPath = (id: string) => `/v1/runs/${encodeURIComponent(id)}`;

export function registerRunCommands(program: Command, action: ActionFactory): void {
  program
    .command('launch <runbook>')
    .description('Launch a run of a runbook with the input in a JSON file')
    .requiredOption('-f, --file <input.json>', 'the input, or a whole launch request { runbook, input } ("-" reads stdin)')
    .option('--idempotency-key <key>', 'retrying with the same key returns the run it started instead of a second one')
    .option('-w, --watch', 'follow the run until it ends; the exit status is its outcome')
    .option('--interval <ms>', 'how often --watch polls the run', positiveInt('--interval'), DEFAULT_INTERVAL_MS)
    .addHelpText('after', '\nWith --output json --watch, each line is one JSON document: the launch answer, then each changed run state.')
    .action(
      action(async (ctx, runbook: string, options: { file: string; idempotencyKey?: string; watch?: boolean; interval: number }) => {
        const input = launchInput(runbook, readJsonFile(options.file), options.file);
        const client = ctx.client();
        const launched = await client.post<LaunchedRun>('/v1/runs', {
          runbook,
          input,
          ...(options.idempotencyKey ? { idempotencyKey: options.idempotencyKey } : {}),
        });
        if (options.watch && ctx.out.json) ctx.out.line(JSON.stringify(launched));
        else {
          ctx.out.result(launched, () =>
            [
              `launched ${launched.runId} (${launched.runbook}): ${launched.status}`,
              ...(launched.waitsForWindow ? [`  waits: ${launched.waitsForWindow.reason}`] : []),
            ].join('\n'),
          );
        }
        if (!options.watch) return ExitCode.ok;
        return watchRun(client, launched.runId, ctx.out, { intervalMs: options.interval });
      }),
    );

  const runs = program.command('runs').description('Runs: list, show, watch, cancel, report');

  runs
    .command('ls')
    .alias('list')
    .description('List runs, newest first')
    .option('--runbook <name>', 'only runs of this runbook')
    .addOption(new Option('--status <status>', 'only runs in this status').choices(RUN_STATUSES))
    .option('--requested-by <principal>', 'only runs this principal requested')
    .option('--awaiting-approval', 'only runs waiting for an approval')
    .option('--schedule <id>', 'only runs this schedule started')
    .option('--page-size <n>', 'runs per page (1..100)', positiveInt('--page-size'))
    .option('--page-token <token>', 'the next page, as a previous listing gave it')
    .action(
      action(
        async (
          ctx,
          options: {
            runbook?: string;
            status?: string;
            requestedBy?: string;
            awaitingApproval?: boolean;
            schedule?: string;
            pageSize?: number;
            pageToken?: string;
          },
        ) => {
          const page = await ctx.client().get<{ runs: RunSummary[]; nextPageToken: string | null }>('/v1/runs', {
            runbook: options.runbook,
            status: options.status,
            requestedBy: options.requestedBy,
            awaitingApproval: options.awaitingApproval ? 'true' : undefined,
            scheduleId: options.schedule,
            pageSize: options.pageSize,
            pageToken: options.pageToken,
          });
          ctx.out.result(page, () =>
            [
              table(
                ['RUN', 'RUNBOOK', 'STATUS', 'REQUESTED BY', 'STARTED', 'ENDED'],
                page.runs.map((r) => [r.runId, r.runbook, r.status, r.requestedBy, shortTime(r.startTime), shortTime(r.closeTime)]),
              ),
              ...(page.nextPageToken ? [`more: runbooks runs ls --page-token ${page.nextPageToken}`] : []),
            ].join('\n'),
          );
        },
      ),
    );

  runs
    .command('show <runId>')
    .description('Show a run: status, steps, approvals, waves')
    .action(
      action(async (ctx, runId: string) => {
        const run = await ctx.client().get<RunDetail>(runPath(runId));
        ctx.out.result(run, () => describeRun(run));
      }),
    );

  runs
    .command('watch <runId>')
    .description("Follow a run until it ends; the exit status is the run's outcome")
    .option('--interval <ms>', 'how often to poll the run', positiveInt('--interval'), DEFAULT_INTERVAL_MS)
    .action(
      action(async (ctx, runId: string, options: { interval: number }) =>
        watchRun(ctx.client(), runId, ctx.out, { intervalMs: options.interval }),
      ),
    );

  runs
    .command('cancel <runId>')
    .description('Cancel a run; it undoes what it changed')
    .requiredOption('-r, --reason <text>', 'why (recorded in the run and its report)')
    .action(
      action(async (ctx, runId: string, options: { reason: string }) => {
        const state = await ctx.client().post<RunState>(`${runPath(runId)}/cancel`, { reason: options.reason });
        ctx.out.result(state, () => `cancellation of ${runId} requested (status was ${state.status})`);
      }),
    );

  runs
    .command('report <runId>')
    .description('The report of a run: Markdown, or { report, markdown } with --output json')
    .action(
      action(async (ctx, runId: string) => {
        const client = ctx.client();
        if (ctx.out.json) ctx.out.result(await client.get(`${runPath(runId)}/report`), () => '');
        else ctx.out.line(await client.text(`${runPath(runId)}/report`, 'text/markdown'));
      }),
    );
}

/**
 * The file holds either the runbook's input or a whole launch request `{ runbook, input }` (as
 * data/demo/restore-request.json does); a request for another runbook is refused.
 */
export function launchInput(runbook: string, document: unknown, file: string): unknown {
  if (document === null || typeof document !== 'object' || Array.isArray(document)) return document;
  const keys = Object.keys(document);
  const isRequest = 'input' in document && keys.every((k) => ['runbook', 'input', 'idempotencyKey'].includes(k));
  if (!isRequest) return document;
  const request = document as { runbook?: unknown; input: unknown };
  if (request.runbook !== undefined && request.runbook !== runbook) {
    throw new UsageError(`${file} is a launch request for ${String(request.runbook)}, not ${runbook}`);
  }
  return request.input;
}
