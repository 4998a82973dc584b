/**
 * The benches' own runbooks, through the real step engine (RunbookRun), bundled with every real
 * runbook of the worker (the re-export below), so the worker under test carries the same bundle
 * as in production. No 'write-report' step, so each compares step for step with its bare twin.
 */
import type { RunState, RunbookDefinition, RunbookStartArgs } from '@runbooks/contracts';
import { z } from 'zod';
import { RunbookRun } from '../../../workflows/src/engine/run';
import type { NoopActivities } from '../baseline/activities';
import { BENCH_GATE } from './gate';

export * from '../../../workflows/src/index';

export interface NoopStepsInput {
  steps: number;
}

export async function engineNoopSteps(args: RunbookStartArgs<NoopStepsInput>): Promise<RunState> {
  const definition: RunbookDefinition = {
    name: 'bench-noop-steps',
    title: `${args.input.steps} no-op steps`,
    summary: 'Bench only: the step engine around a no-op activity.',
    workflowType: 'engineNoopSteps',
    inputSchema: z.object({ steps: z.number().int().positive() }),
    steps: Array.from({ length: args.input.steps }, (_, i) => ({ id: `noop-${i + 1}`, title: `No-op ${i + 1}` })),
  };
  const run = new RunbookRun(definition, args);
  return run.execute(async () => {
    for (let step = 1; step <= args.input.steps; step++) {
      // The engine's activity proxy forwards any name; `noop` is registered enveloped on the bench worker.
      await run.step(`noop-${step}`, (a) => (a as unknown as NoopActivities).noop({ step }));
    }
  });
}

/**
 * An approval gate, then one no-op step: the approval-latency and parked-runs benches. The gate
 * is the engine's own (decideApprovalUpdate, validated, AwaitingApproval search attribute).
 */
export async function engineApprovalThenNoop(args: RunbookStartArgs<Record<string, never>>): Promise<RunState> {
  const definition = {
    name: 'bench-approval',
    title: 'Approval, then a no-op step',
    summary: 'Bench only: an approval gate of the engine, then one no-op step.',
    workflowType: 'engineApprovalThenNoop',
    inputSchema: z.object({}),
    steps: [
      { id: BENCH_GATE, title: 'Approve', approval: true },
      { id: 'noop', title: 'No-op' },
    ],
  } as const satisfies RunbookDefinition;
  const run = new RunbookRun(definition, args);
  return run.execute(async () => {
    await run.approval(BENCH_GATE, 'Bench approval', {
      allowedRoles: ['approver'],
      requiredApprovals: 1,
      timeoutMs: 24 * 3600_000,
      escalation: [],
    });
    await run.step('noop', (a) => (a as unknown as NoopActivities).noop({ step: 1 }));
  });
}
