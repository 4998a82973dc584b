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
}

/** Runs the CLI as a child process (stdout is a pipe, not a terminal) and collects its output and exit status. */
export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_MAIN, ...args], {
      // Only what the test gives: no RUNBOOKS_* of the machine running the tests leaks in.
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.stdin ?? '');
  });
}
