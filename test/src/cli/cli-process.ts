import { spawn } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from '../api/app';

/** The built CLI, run as users run it: `node apps/cli/dist/main.js`. */
export const CLI_MAIN = path.join(repoRoot, 'apps', 'cli', 'dist', 'main.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: NodeJS.ProcessEnv;
  /** Written to the CLI's stdin, which is then closed. */
  stdin?: string;
  /**
   * Run on a pseudo-terminal (util-linux `script`, whose -e exits with the CLI's status), so the
   * CLI sees a TTY; stdout then has the terminal's \r\n turned back into \n.
   */
  terminal?: boolean;
}

/** Runs the CLI as a child process (stdout a pipe unless `terminal`) and collects its output and exit status. */
export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const argv = [process.execPath, CLI_MAIN, ...args];
  const [command, ...commandArgs] = options.terminal ? ['script', '-qefc', argv.map(shellQuote).join(' '), '/dev/null'] : argv;
  return new Promise((resolve, reject) => {
    const child = spawn(command, commandArgs, {
      // Only what the test gives: no RUNBOOKS_* of the machine running the tests leaks in.
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...(options.terminal ? { TERM: 'xterm' } : {}), ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: options.terminal ? stdout.replace(/\r\n/g, '\n') : stdout, stderr }));
    child.stdin.end(options.stdin ?? '');
  });
}

function shellQuote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}
