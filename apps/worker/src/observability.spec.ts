import type { WorkflowInfo } from '@temporalio/workflow';
import { RunbookMetrics } from '@runbooks/activities';
import { observabilitySinks } from './observability';

async function value(metrics: RunbookMetrics, name: string, labels: Record<string, string>): Promise<number> {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  const matching = metric?.values.filter((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want)) ?? [];
  return matching.reduce((sum, v) => sum + v.value, 0);
}

/** What the SDK hands a sink: only the fields the metrics sink reads. */
function info(fields: { workflowType: string; parent?: boolean; scheduled?: boolean }): WorkflowInfo {
  return {
    workflowType: fields.workflowType,
    parent: fields.parent ? { workflowId: 'parent', runId: 'parent-run', namespace: 'default' } : undefined,
    searchAttributes: fields.scheduled ? { TemporalScheduledById: ['nightly'] } : {},
  } as unknown as WorkflowInfo;
}

describe('the worker metrics sink', () => {
  it('counts runs started by trigger: by the API, by a schedule, and a catalog runbook started by another run; never a fleet batch child', async () => {
    const metrics = new RunbookMetrics({ processMetrics: false });
    const { runStarted } = observabilitySinks({ metrics }).runMetrics;
    runStarted.fn(info({ workflowType: 'dataRestore' }));
    runStarted.fn(info({ workflowType: 'securityPatching', scheduled: true }));
    // software-conflict starts a software-fix run as its child: a run with a report of its own, counted when it ends.
    runStarted.fn(info({ workflowType: 'softwareFix', parent: true }));
    // A fleet campaign's batches are parts of their parent's run.
    runStarted.fn(info({ workflowType: 'patchBatch', parent: true }));
    runStarted.fn(info({ workflowType: 'rollbackBatch', parent: true }));
    expect(await value(metrics, 'runbooks_runs_started_total', { runbook: 'data-restore', trigger: 'api' })).toBe(1);
    expect(await value(metrics, 'runbooks_runs_started_total', { runbook: 'security-patching', trigger: 'schedule' })).toBe(1);
    expect(await value(metrics, 'runbooks_runs_started_total', { runbook: 'software-fix', trigger: 'parent' })).toBe(1);
    expect(await value(metrics, 'runbooks_runs_started_total', {})).toBe(3);
  });

  it('counts each SLA breach the workflow reports by runbook, kind and tier, including one with no tier left', async () => {
    const metrics = new RunbookMetrics({ processMetrics: false });
    const { slaBreached } = observabilitySinks({ metrics }).runMetrics;
    slaBreached.fn(info({ workflowType: 'dataRestore' }), 'approval', '2');
    slaBreached.fn(info({ workflowType: 'dataRestore' }), 'approval', 'none');
    slaBreached.fn(info({ workflowType: 'diskReplacement' }), 'task', '3');
    expect(await value(metrics, 'runbooks_sla_breaches_total', { runbook: 'data-restore', kind: 'approval', tier: '2' })).toBe(1);
    expect(await value(metrics, 'runbooks_sla_breaches_total', { runbook: 'data-restore', kind: 'approval', tier: 'none' })).toBe(1);
    expect(await value(metrics, 'runbooks_sla_breaches_total', { runbook: 'disk-replacement', kind: 'task', tier: '3' })).toBe(1);
  });
});
