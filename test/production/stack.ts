import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const repoRoot = path.resolve(__dirname, '..', '..');
const script = path.join(repoRoot, 'scripts', 'production-stack.sh');

/** Runs scripts/production-stack.sh with the given command (start, stop, env, worker <a|b>). */
export function stackCommand(...args: string[]): string {
  return execFileSync('bash', [script, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], env: process.env });
}

/** The `export NAME=value` lines of `production-stack.sh env`, as an object; undefined when no stack runs. */
export function stackEnv(): Record<string, string> | undefined {
  let text: string;
  try {
    text = execFileSync('bash', [script, 'env'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], env: process.env });
  } catch {
    return undefined;
  }
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^export ([A-Z0-9_]+)=(.*)$/.exec(line);
    if (match) env[match[1]] = match[2];
  }
  return env;
}

/** The demo principals' tokens (config/principals.demo.json, which the stack's APIs load). */
export const TOKENS = {
  technician: 'demo-technician-token',
  approver: 'demo-approver-token',
  scheduler: 'demo-scheduler-token',
  admin: 'demo-admin-token',
} as const;

export interface ApiAnswer<T = Record<string, unknown>> {
  status: number;
  body: T;
}

/** One HTTP call to an API replica (RUNBOOKS_API_A or RUNBOOKS_API_B), as JSON. */
export async function callApi<T = Record<string, unknown>>(
  replica: 'A' | 'B',
  method: string,
  route: string,
  token: string,
  body?: unknown,
): Promise<ApiAnswer<T>> {
  const base = process.env[`RUNBOOKS_API_${replica}`];
  if (!base) throw new Error(`RUNBOOKS_API_${replica} is not set: run through test/production/jest.config.js`);
  const response = await fetch(`${base}${route}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      accept: 'application/json',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : {}) as T };
}

/** The stack's worker processes by name, from their pid files. */
export function workerPid(worker: 'a' | 'b'): number {
  return Number(fs.readFileSync(path.join(process.env.RUNBOOKS_STACK_DIR as string, 'pids', `worker-${worker}`), 'utf8'));
}
