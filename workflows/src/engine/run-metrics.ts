import { proxySinks, type Sinks } from '@temporalio/workflow';

/**
 * The worker's metrics sink (apps/worker/src/observability.ts): workflow code cannot reach a metrics
 * library, but a sink runs in the worker outside the sandbox, and never during replay, so
 * replaying a run's history does not count it again (a workflow task that a killed worker never
 * completed runs again, not as replay, and counts twice: the counters are approximate).
 */
export interface RunMetricsSinks extends Sinks {
  runMetrics: {
    /** A run's first execution started (not a continue-as-new). */
    runStarted(): void;
    /**
     * A wait passed its deadline undone: `tier` is the tier it passed to, or `none` when no tier was
     * left (the approval gate expires; the task stays with the last tier, overdue).
     */
    slaBreached(kind: 'approval' | 'task', tier: string): void;
  };
}

export const { runMetrics } = proxySinks<RunMetricsSinks>();
