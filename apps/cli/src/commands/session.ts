import type { Command } from 'commander';
import readline from 'node:readline';
import { ApiClient } from '../api-client';
import { configFile, normalizeApiUrl, removeConnection, saveConnection, UsageError } from '../config';
import type { ActionFactory } from '../command-kit';

export function registerSessionCommands(program: Command, action: ActionFactory): void {
  program
    .command('login')
    .description('Check a token against the API and save both (mode 0600) for the next commands')
    .option('--token-stdin', 'read the token from the first line of stdin (for scripts)')
    .action(
      action(async (ctx, options: { tokenStdin?: boolean }) => {
        const given = ctx.flags.apiUrl ?? ctx.env.RUNBOOKS_API_URL;
        if (!given) throw new UsageError('login needs the API: runbooks login --api-url http://127.0.0.1:3000');
        const apiUrl = normalizeApiUrl(given);
        const token = options.tokenStdin ? await readLine(process.stdin) : await promptHidden('Token: ');
        if (!token) throw new UsageError('no token given');
        // Any authenticated read proves the token; the catalog needs no Temporal.
        await new ApiClient({ apiUrl, token }).get('/v1/runbooks');
        const file = saveConnection({ apiUrl, token }, ctx.env);
        ctx.out.result({ apiUrl, configFile: file }, () => `logged in to ${apiUrl}; saved to ${file} (readable by you only)`);
      }),
    );

  program
    .command('logout')
    .description('Forget the saved login')
    .action(
      action(async (ctx) => {
        const file = configFile(ctx.env);
        const removed = removeConnection(ctx.env);
        ctx.out.result({ configFile: file, removed }, () => (removed ? `removed ${file}` : `no saved login (${file})`));
      }),
    );
}

async function readLine(input: NodeJS.ReadableStream): Promise<string> {
  const lines = readline.createInterface({ input, crlfDelay: Infinity });
  for await (const line of lines) {
    lines.close();
    return line.trim();
  }
  return '';
}

/** Asks for the token without echoing it. */
async function promptHidden(question: string): Promise<string> {
  if (!process.stdin.isTTY) throw new UsageError('stdin is not a terminal: pass the token with --token-stdin');
  process.stderr.write(question);
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  // readline echoes through _writeToOutput; silencing it hides the token as it is typed.
  (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = () => undefined;
  const answer = await new Promise<string>((resolve) => rl.question('', resolve));
  rl.close();
  process.stderr.write('\n');
  return answer.trim();
}
