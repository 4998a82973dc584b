import type { RunState } from '@runbooks/contracts';

/** A minimal run state: enough for the report renderer, recognisable in the files and the store. */
export function minimalRunState(runId: string, status: RunState['status'] = 'succeeded'): RunState {
  return {
    runId,
    runbook: 'data-restore',
    title: 'Data restore',
    requestedBy: { id: 'tess', displayName: 'Tess' },
    requestedAt: '2026-11-22T10:00:00.000Z',
    status,
    input: {},
    steps: [],
    gates: [],
    compensations: [],
  };
}
