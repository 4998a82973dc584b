import type { Client, Connection, WorkflowHandle } from '@temporalio/client';
import {
  TERMINAL_RUN_STATUSES,
  decideApprovalUpdate,
  runStateQuery,
  type DataRestoreInput,
  type Principal,
  type RunState,
  type RunbookStartArgs,
  type SecurityPatchingInput,
} from '@runbooks/contracts';
import type { ResticFixture } from '../../../apps/worker/src/demo/restic-fixture';
import { randomUUID } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { eventually, testClient } from '../harness/worker';
import { killHard, spawnWorkerProcess } from '../harness/worker-process';
import { TestSecrets } from '../../../activities/src/test-support/secrets';

/** The restore password reaches the workers as a named secret (env backend), like any deployment's. */
export const RESTORE_PASSWORD_ENV = 'RUNBOOKS_SECRET_FAULTS_RESTORE';
export const RESTORE_PASSWORD = 'faults-repo-pw-4411';
const RESTORE_SECRET = 'backup/faults';

let restoreSecrets: TestSecrets | undefined;
/** The secrets file the fault tests' workers read; each test's repository is allowed as it is made. */
function faultSecrets(): TestSecrets {
  restoreSecrets ??= new TestSecrets([
    { name: RESTORE_SECRET, source: { backend: 'env', variable: RESTORE_PASSWORD_ENV }, runbooks: ['data-restore'], roles: ['technician'] },
  ]);
  return restoreSecrets;
}
afterAll(() => restoreSecrets?.remove());
export const technician = { id: 'tess', displayName: 'Tess Technician' };
export const approver: Principal = { id: 'alex', displayName: 'Alex Approver', roles: ['approver'] };

/**
 * Worker processes of one test, on one task queue: started, killed with SIGKILL (nothing cleaned
 * up, as in a crash or an OOM kill) and replaced; all killed when the test ends.
 */
export class WorkerFleet {
  readonly taskQueue = `faults-${randomUUID()}`;
  private readonly all: ChildProcess[] = [];

  constructor(private readonly env: Record<string, string>) {}

  start(extraEnv: Record<string, string> = {}): ChildProcess {
    const secrets = faultSecrets().config;
    const child = spawnWorkerProcess({
      RUNBOOKS_TASK_QUEUE: this.taskQueue,
      RUNBOOKS_SECRETS_FILE: secrets.catalogFile,
      RUNBOOKS_SECRETS_DIR: secrets.secretsDir,
      ...this.env,
      ...extraEnv,
    });
    this.all.push(child);
    return child;
  }

  /** The workers still running. */
  running(): ChildProcess[] {
    return this.all.filter((w) => w.exitCode === null && w.signalCode === null);
  }

  async killAll(): Promise<void> {
    for (const w of this.all) await killHard(w);
  }
}

export function restoreArgs(input: DataRestoreInput): RunbookStartArgs<DataRestoreInput> {
  return { input, requestedBy: technician };
}

export async function launchRestore(client: Client, taskQueue: string, input: DataRestoreInput): Promise<WorkflowHandle> {
  return client.workflow.start('dataRestore', {
    taskQueue,
    workflowId: `data-restore-${randomUUID()}`,
    args: [restoreArgs(input)],
  });
}

/** Approves the restore once its gate is open. */
export async function approveWhenPending(handle: WorkflowHandle, timeoutMs = 120_000): Promise<void> {
  await eventually(
    async () => {
      const state: RunState = await handle.query(runStateQuery);
      return state.gates.find((g) => g.id === 'approve-restore' && g.state === 'pending') ? true : undefined;
    },
    timeoutMs,
    `approval gate of ${handle.workflowId}`,
  );
  await handle.executeUpdate(decideApprovalUpdate, {
    args: [{ gateId: 'approve-restore', decision: 'approve', comment: 'approved in a fault test', principal: approver }],
  });
}

/** Processes on this machine whose command line contains every one of `parts` (read from /proc). */
export function processesMatching(...parts: string[]): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ');
      if (parts.every((part) => cmdline.includes(part))) pids.push(Number(entry));
    } catch {
      // ended while we looked
    }
  }
  return pids;
}

/** Running: not ended, and not a zombie waiting for a reaper (it does nothing then). */
export function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Resolves once the file exists. */
export function fileAppears(file: string, timeoutMs: number): Promise<true> {
  return eventually(
    async () => {
      try {
        readFileSync(file);
        return true;
      } catch {
        return undefined;
      }
    },
    timeoutMs,
    file,
  );
}

/**
 * Kills the worker each time it holds an activity (withFaultHold writes a marker file per held
 * activity into `markerDir`) and starts a new one, until `done` settles. Each held activity must be
 * resumed within `resumeMs` by the next worker: the next marker or the end of the run appears by then.
 * Returns the activities held, in order.
 */
export async function killAtEveryHold(fleet: WorkerFleet, markerDir: string, done: Promise<unknown>, resumeMs = 60_000): Promise<string[]> {
  let finished = false;
  void done.then(
    () => (finished = true),
    () => (finished = true),
  );
  const held: string[] = [];
  let worker = fleet.start();
  for (;;) {
    const next = await eventually(
      async () => {
        if (finished) return 'finished';
        const markers = readdirSync(markerDir).filter((m) => !held.includes(m));
        return markers[0];
      },
      resumeMs,
      `the next held activity or the end of the run (held so far: ${held.join(', ') || 'none'})`,
    );
    if (next === 'finished') return held;
    held.push(next);
    await killHard(worker);
    worker = fleet.start();
  }
}

/** One fault test file's temp folder, client, and worker fleet, set up and torn down around its tests. */
export function faultTestContext(prefix: string): { root: string; client: Client; fleet?: WorkerFleet } {
  const context = {} as { root: string; client: Client; fleet?: WorkerFleet; connection: Connection };
  beforeAll(async () => {
    context.root = await fs.mkdtemp(path.join(os.tmpdir(), `${prefix}-`));
    ({ client: context.client, connection: context.connection } = await testClient());
  });
  afterAll(async () => {
    await context.fleet?.killAll();
    await context.connection?.close();
    if (context.root) await fs.rm(context.root, { recursive: true, force: true });
  });
  return context;
}

/** A restore of `source` from the fixture's repository into `target`. */
export function restoreInput(fixture: ResticFixture, source: string, target: string): DataRestoreInput {
  faultSecrets().allowRepository(RESTORE_SECRET, fixture.repository);
  return {
    repository: { url: fixture.repository, passwordRef: `secret:${RESTORE_SECRET}` },
    path: source,
    target,
    affectedUsers: ['jane@example.test'],
    approval: { timeoutSeconds: 600, escalationContact: 'ops-2nd-line' },
  };
}

/** Starts a security-patching run; its result settles with the final state, failed runs included. */
export async function launchPatching(
  client: Client,
  taskQueue: string,
  input: SecurityPatchingInput,
): Promise<{ handle: WorkflowHandle; result: Promise<RunState> }> {
  const args: RunbookStartArgs<SecurityPatchingInput> = { input, requestedBy: technician };
  const handle = await client.workflow.start('securityPatching', {
    taskQueue,
    workflowId: `security-patching-${randomUUID()}`,
    args: [args],
  });
  const result = handle.result().then(
    (state) => state as RunState,
    () => handle.query(runStateQuery),
  );
  return { handle, result };
}

/** Approves production once its gate is open (nothing, should the run end first). */
export async function approveProductionWhenPending(handle: WorkflowHandle, timeoutMs = 240_000): Promise<void> {
  const state = await eventually(
    async () => {
      const now: RunState = await handle.query(runStateQuery);
      return now.gates.some((g) => g.state === 'pending') || TERMINAL_RUN_STATUSES.includes(now.status) ? now : undefined;
    },
    timeoutMs,
    'production gate',
  );
  if (TERMINAL_RUN_STATUSES.includes(state.status)) return;
  await handle.executeUpdate(decideApprovalUpdate, {
    args: [{ gateId: 'approve-production', decision: 'approve', comment: 'canary clean', principal: approver }],
  });
}
