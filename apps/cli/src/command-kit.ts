import { InvalidArgumentError } from 'commander';
import fs from 'node:fs';
import type { ApiClient } from './api-client';
import { UsageError } from './config';
import type { ExitCode } from './exit-codes';
import type { Output, OutputFormat } from './output';

/** What every command gets: how to print, and (once asked for) a client on the configured API. */
export interface CommandContext {
  out: Output;
  env: NodeJS.ProcessEnv;
  /** Global flags as given. */
  flags: { apiUrl?: string; output: OutputFormat };
  client(): ApiClient;
}

/** A command's handler: its positional arguments, then its options. */
export type Handler<A extends unknown[]> = (ctx: CommandContext, ...args: A) => Promise<ExitCode | void>;

/** Wraps a handler into a commander action (see buildProgram). */
export type ActionFactory = <A extends unknown[]>(handler: Handler<A>) => (...args: unknown[]) => Promise<void>;

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
