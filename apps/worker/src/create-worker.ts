import { NativeConnection, Worker } from '@temporalio/worker';
import {
  ASSERTION_CONFIG_GLOBAL,
  launchRefusal,
  parseAssertionKeys,
  type AssertionConfig,
  type LaunchAssertionActivities,
} from '@runbooks/contracts';
import fs from 'node:fs/promises';
import type { RunbookActivities } from '@runbooks/activities';
import { withAttemptEnvelopes } from './attempt-envelope';
import { bundleRunbookWorkflows } from './bundle';

export interface RunbookWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: RunbookActivities;
  /** A pre-built bundle file; without it the workflows are bundled now (seconds). */
  workflowBundlePath?: string;
  shutdownGraceMs?: number;
  /**
   * Keys that verify the API's signed caller assertions (`kid:base64[,kid:base64]`, newest first;
   * RUNBOOKS_ASSERTION_KEYS) and their maximum age. Without keys the worker verifies no assertion.
   */
  assertions?: { keys: string; maxAgeMs: number };
}

/** The one place a runbook worker is assembled: every workflow and activity on one task queue. */
export async function createRunbookWorker(options: RunbookWorkerOptions): Promise<Worker> {
  let workflowBundle: { codePath: string } | { code: string } = options.workflowBundlePath
    ? { codePath: options.workflowBundlePath }
    : await bundleRunbookWorkflows();
  if (options.assertions) {
    parseAssertionKeys(options.assertions.keys); // refuse a malformed key at start, not at the first decision
    const code = 'code' in workflowBundle ? workflowBundle.code : await fs.readFile(workflowBundle.codePath, 'utf8');
    const config: AssertionConfig = options.assertions;
    // The sandbox cannot read the environment: the keys are defined before the bundle runs, on its
    // first line so the bundle's source map still lines up. They stay in this process's memory.
    workflowBundle = { code: `globalThis[${JSON.stringify(ASSERTION_CONFIG_GLOBAL)}]=Object.freeze(${JSON.stringify(config)});${code}` };
  }
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    workflowBundle,
    activities: { ...withAttemptEnvelopes(options.activities), ...launchAssertionActivities(options.assertions) },
    shutdownGraceTime: options.shutdownGraceMs ?? 30_000,
  });
}

/**
 * The launch check runs as a local activity, not in workflow code: its verdict is recorded in
 * history, so a run replays the same even after the keys rotate. Without keys nothing is checked.
 */
function launchAssertionActivities(assertions: RunbookWorkerOptions['assertions']): LaunchAssertionActivities {
  const keys = assertions ? parseAssertionKeys(assertions.keys) : undefined;
  return {
    async verifyLaunchAssertion(check) {
      if (!keys || !assertions) return { checked: false };
      return { checked: true, refusal: launchRefusal(keys, assertions.maxAgeMs, check) };
    },
  };
}
