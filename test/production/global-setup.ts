import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stackCommand, stackEnv } from './stack';

/**
 * Starts the production-shaped stack for the run, or uses the one already running in
 * RUNBOOKS_STACK_DIR (then it is left running afterwards). Tests read its addresses from the env.
 */
export default async function globalSetup(): Promise<void> {
  let env = process.env.RUNBOOKS_STACK_DIR ? stackEnv() : undefined;
  if (env) {
    process.env.RUNBOOKS_STACK_KEEP = '1';
  } else {
    if (!process.env.RUNBOOKS_STACK_DIR) {
      process.env.RUNBOOKS_STACK_PARENT = fs.mkdtempSync(path.join(os.tmpdir(), 'runbooks-prod-'));
      // PostgreSQL runs as the postgres user, which must be able to reach its folder inside.
      fs.chmodSync(process.env.RUNBOOKS_STACK_PARENT, 0o755);
      process.env.RUNBOOKS_STACK_DIR = path.join(process.env.RUNBOOKS_STACK_PARENT, 'stack');
    }
    try {
      stackCommand('start'); // on failure it prints the logs' ends and stops what it started
    } catch (error) {
      if (process.env.RUNBOOKS_STACK_PARENT) fs.rmSync(process.env.RUNBOOKS_STACK_PARENT, { recursive: true, force: true });
      throw error;
    }
    env = stackEnv();
    if (!env) throw new Error('production-stack.sh start finished but `env` shows no stack');
  }
  Object.assign(process.env, env);
}
