import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import fs from 'node:fs';
import { ApiClient } from './api-client';
import { registerApprovalCommands } from './commands/approvals';
import { registerRunCommands } from './commands/runs';
import { registerRunbookCommands } from './commands/runbooks';
import { registerScheduleCommands } from './commands/schedules';
import { registerSessionCommands } from './commands/session';
import { resolveConnection, UsageError } from './config';
import { EXIT_CODES_HELP, ExitCode } from './exit-codes';
import { Output, type OutputFormat } from './output';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { version } = require('../package.json') as { version: string };

/** What every command gets: how to print, and (once asked for) a client on the configured API. */
export interface CommandContext {
  out: Output;
  env: NodeJS.ProcessEnv;
  /** Global flags as given. */
  flags: { apiUrl?: string; output: OutputFormat };
  client(): ApiClient;
}

type Handler<A extends unknown[]> = (ctx: CommandContext, ...args: A) => Promise<ExitCode | void>;

/** Builds the `runbooks` program; `setExitCode` receives each command's exit status. */
export function buildProgram(env: NodeJS.ProcessEnv, setExitCode: (code: ExitCode) => void): Command {
  const program = new Command('runbooks')
    .description('Launch, watch, approve and schedule runbooks through the runbooks API.')
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
  registerScheduleCommands(program, action);
  return program;
}

export type ActionFactory = <A extends unknown[]>(handler: Handler<A>) => (...args: unknown[]) => Promise<void>;

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

/** A JSON document from a file, or from stdin with `-`; a bad one is a usage error naming the file. */
export function readJsonFile(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${file} is not valid JSON: ${(error as Error).message}`);
  }
}

/** A positive integer option, e.g. --interval. */
export function positiveInt(name: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive whole number`);
    return n;
  };
}
