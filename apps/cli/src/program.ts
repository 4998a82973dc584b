import { Command, CommanderError, Option } from 'commander';
import { ApiClient } from './api-client';
import { registerApprovalCommands } from './commands/approvals';
import { registerRunCommands } from './commands/runs';
import { registerRunbookCommands } from './commands/runbooks';
import { registerScheduleCommands } from './commands/schedules';
import { registerSessionCommands } from './commands/session';
import { registerTaskCommands } from './commands/tasks';
import type { CommandContext, Handler } from './command-kit';
import { resolveConnection } from './config';
import { EXIT_CODES_HELP, ExitCode } from './exit-codes';
import { Output, type OutputFormat } from './output';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { version } = require('../package.json') as { version: string };

/** Builds the `runbooks` program; `setExitCode` receives each command's exit status. */
export function buildProgram(env: NodeJS.ProcessEnv, setExitCode: (code: ExitCode) => void): Command {
  const program = new Command('runbooks')
    .description('Launch, watch, approve, work tasks of and schedule runbooks through the runbooks API.')
    .version(version)
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')
    .addOption(new Option('-o, --output <format>', 'text for people, json for scripts').choices(['text', 'json']).default('text'))
    .option('--api-url <url>', 'the API (default: RUNBOOKS_API_URL, else the saved login)')
    .addHelpText(
      'after',
      `${EXIT_CODES_HELP}

Configuration: "runbooks login" saves the API URL and token in ${'$XDG_CONFIG_HOME'}/runbooks/config.json
(mode 0600); RUNBOOKS_API_URL and RUNBOOKS_TOKEN override it, RUNBOOKS_CONFIG_DIR moves it.`,
    );

  /** Wraps a command handler: builds its context, prints any error, records the exit status. */
  const action =
    <A extends unknown[]>(handler: Handler<A>) =>
    async (...args: unknown[]): Promise<void> => {
      const command = args[args.length - 1] as Command;
      const flags = command.optsWithGlobals<{ apiUrl?: string; output: OutputFormat }>();
      const out = new Output(flags.output);
      let client: ApiClient | undefined;
      const ctx: CommandContext = {
        out,
        env,
        flags,
        client: () => (client ??= new ApiClient(resolveConnection(flags, env))),
      };
      try {
        setExitCode((await handler(ctx, ...(args.slice(0, -1) as A))) ?? ExitCode.ok);
      } catch (error) {
        setExitCode(out.error(error));
      }
    };

  registerSessionCommands(program, action);
  registerRunbookCommands(program, action);
  registerRunCommands(program, action);
  registerApprovalCommands(program, action);
  registerTaskCommands(program, action);
  registerScheduleCommands(program, action);
  return program;
}

/** Runs the CLI on `argv` (as process.argv) and resolves to the exit status. */
export async function runCli(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let exitCode: number = ExitCode.ok;
  const program = buildProgram(env, (code) => (exitCode = code));
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    throw error;
  }
  return exitCode;
}
