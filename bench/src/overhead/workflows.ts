/**
 * The step-overhead bench's runbook: K no-op steps through the real step engine (RunbookRun),
 * bundled from the engine's sources. No 'write-report' step, so it compares step for step.
 */
import type { RunState, RunbookDefinition, RunbookStartArgs } from '@runbooks/contracts';
import { z } from 'zod';
import { RunbookRun } from '../../../workflows/src/engine/run';
import type { NoopActivities } from '../baseline/activities';

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
