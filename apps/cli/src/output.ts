import { ApiError, ConnectionError } from './api-client';
import { UsageError } from './config';
import { ExitCode } from './exit-codes';

export type OutputFormat = 'text' | 'json';

/** Where a command writes: text for people, or one JSON document for scripts (`--output json`). */
export class Output {
  constructor(
    readonly format: OutputFormat,
    private readonly stdout: NodeJS.WriteStream = process.stdout,
    private readonly stderr: NodeJS.WriteStream = process.stderr,
  ) {}

  get json(): boolean {
    return this.format === 'json';
  }

  get isTty(): boolean {
    return this.stdout.isTTY === true;
  }

  /** Prints `data` as JSON, or `text()` for people. */
  result(data: unknown, text: () => string): void {
    this.stdout.write(this.json ? `${JSON.stringify(data, null, 2)}\n` : ensureNewline(text()));
  }

  line(text: string): void {
    this.stdout.write(ensureNewline(text));
  }

  raw(text: string): void {
    this.stdout.write(text);
  }

  note(text: string): void {
    this.stderr.write(ensureNewline(text));
  }

  /** Prints an error (the API's own JSON body with --output json) and says which exit status it means. */
  error(error: unknown): ExitCode {
    if (error instanceof ApiError) {
      if (this.json) {
        this.stderr.write(`${JSON.stringify({ error: error.body }, null, 2)}\n`);
      } else {
        const lines = [`error: ${error.status} ${error.body.error}: ${error.body.message}`];
        for (const issue of error.body.issues ?? []) lines.push(`  ${issue.path || '(request)'}: ${issue.message}`);
        this.stderr.write(`${lines.join('\n')}\n`);
      }
      return ExitCode.apiError;
    }
    const usage = error instanceof UsageError;
    const message = error instanceof Error ? error.message : String(error);
    if (this.json) this.stderr.write(`${JSON.stringify({ error: { message } })}\n`);
    else this.stderr.write(`error: ${message}\n`);
    if (usage) return ExitCode.usage;
    if (error instanceof ConnectionError) return ExitCode.apiError;
    // Not an error a user can cause: show where, so it can be reported.
    if (!this.json && error instanceof Error && error.stack) this.stderr.write(`${error.stack}\n`);
    return ExitCode.apiError;
  }
}

function ensureNewline(text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`;
}

/** A plain text table: a header row, then one row per item; columns as wide as their widest cell. */
export function table(headers: string[], rows: (string | number | null | undefined)[][]): string {
  const cells = [headers, ...rows.map((row) => row.map((c) => (c === null || c === undefined ? '-' : String(c))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((row) => row[i]?.length ?? 0)));
  return cells.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ')).join('\n');
}

/** ISO time as "2026-11-20 10:05:03Z": shorter, still UTC. */
export function shortTime(iso: string | null | undefined): string {
  if (!iso) return '-';
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}
