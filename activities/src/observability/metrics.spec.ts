import type { RunState } from '@runbooks/contracts';
import perfHooks from 'node:perf_hooks';
import { EVENT_LOOP_SAMPLE_MS, RunbookMetrics } from './metrics';

/** One sample's value by its series name (a histogram's `_sum`, `_count` included) and labels; 0 when absent. */
async function value(metrics: RunbookMetrics, name: string, labels: Record<string, string>): Promise<number> {
  const values = (await metrics.registry.getMetricsAsJSON()).flatMap((m) =>
    m.values.map((v) => ({ ...v, series: 'metricName' in v && typeof v.metricName === 'string' ? v.metricName : m.name })),
  );
  const sample = values.find((v) => v.series === name && Object.entries(labels).every(([k, l]) => v.labels[k] === l));
  return sample?.value ?? 0;
}

const ended: RunState = {
  runId: 'patch-1',
  runbook: 'security-patching',
  title: 'Security patching',
  requestedBy: { id: 'tess', displayName: 'Tess' },
  requestedAt: '2026-11-30T10:00:00Z',
  status: 'failed',
  input: {},
  steps: [],
  gates: [
    {
      id: 'approve-production',
      title: 'Approval',
      state: 'approved',
      allowedRoles: ['approver'],
      requiredApprovals: 1,
      openedAt: '2026-11-30T10:00:00Z',
      closedAt: '2026-11-30T10:05:00Z',
      decisions: [],
      escalations: [],
    },
    {
      id: 'late-gate',
      title: 'Never reached',
      state: 'not_reached',
      allowedRoles: ['approver'],
      requiredApprovals: 1,
      decisions: [],
      escalations: [],
    },
  ],
  tasks: [
    {
      id: 'swap-disk',
      title: 'Swap the disk',
      instructions: '',
      state: 'done',
      assignedRole: 'tier1',
      eligibleRoles: ['tier1'],
      openedAt: '2026-11-30T10:00:00Z',
      closedAt: '2026-11-30T11:00:00Z',
      overdue: false,
      evidenceSchema: {},
      escalations: [],
      holds: [],
      events: [],
    },
  ],
  compensations: [],
  rollout: {
    paused: false,
    concurrency: 2,
    maxFailures: 1,
    failures: 2,
    waves: [],
    skipped: [],
    operatorActions: [],
    hosts: [
      { name: 'a', wave: 0, state: 'patched' },
      { name: 'b', wave: 0, state: 'patched' },
      { name: 'c', wave: 1, state: 'rolled_back' },
      { name: 'd', wave: 1, state: 'failed' },
      { name: 'e', wave: 1, state: 'pending' },
    ],
  },
};

describe('RunbookMetrics from a run’s report and its notices', () => {
  it('counts the outcome, the gate and task waits in seconds, and hosts by what happened to them', async () => {
    const metrics = new RunbookMetrics({ processMetrics: false });
    metrics.recordRunEnded(ended);
    expect(await value(metrics, 'runbooks_runs_ended_total', { runbook: 'security-patching', outcome: 'failed' })).toBe(1);
    expect(await value(metrics, 'runbooks_approval_wait_seconds_sum', { runbook: 'security-patching', result: 'approved' })).toBe(300);
    expect(await value(metrics, 'runbooks_approval_wait_seconds_count', { result: 'not_reached' })).toBe(0);
    expect(await value(metrics, 'runbooks_task_wait_seconds_sum', { runbook: 'security-patching', result: 'done' })).toBe(3600);
    expect(await value(metrics, 'runbooks_hosts_total', { result: 'changed' })).toBe(2);
    expect(await value(metrics, 'runbooks_hosts_total', { result: 'rolled_back' })).toBe(1);
    expect(await value(metrics, 'runbooks_hosts_total', { result: 'failed' })).toBe(1);
  });

  it('counts the hosts of a fleet run whose host records are in the store from its counts, not from the hosts in flight', async () => {
    const metrics = new RunbookMetrics({ processMetrics: false });
    const rollout = ended.rollout as NonNullable<RunState['rollout']>;
    const counts = { pending: 0, patching: 0, patched: 700, failed: 4, rolled_back: 3, rollback_failed: 1, skipped: 292 };
    metrics.recordRunEnded({ ...ended, rollout: { ...rollout, hosts: [], counts } });
    expect(await value(metrics, 'runbooks_hosts_total', { result: 'changed' })).toBe(700);
    expect(await value(metrics, 'runbooks_hosts_total', { result: 'failed' })).toBe(4);
    expect(await value(metrics, 'runbooks_hosts_total', { result: 'rolled_back' })).toBe(3);
    expect(await value(metrics, 'runbooks_hosts_total', { result: 'rollback_failed' })).toBe(1);
  });
});

describe('RunbookMetrics exposition', () => {
  it('still serves its own metrics when the extra source (the Temporal SDK’s) cannot be read, saying so in a comment', async () => {
    const metrics = new RunbookMetrics({ processMetrics: false });
    metrics.runsStarted.inc({ runbook: 'data-restore', trigger: 'api' });
    const text = await metrics.exposition(() => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:9464')));
    expect(text).toMatch(/^runbooks_runs_started_total\{runbook="data-restore",trigger="api"\} 1$/m);
    expect(text).toMatch(/^# the Temporal SDK's metrics could not be read: connect ECONNREFUSED 127\.0\.0\.1:9464$/m);
    expect(await metrics.exposition(() => Promise.resolve('temporal_num_pollers 2\n'))).toMatch(/^temporal_num_pollers 2$/m);
  });
});

describe('RunbookMetrics process metrics', () => {
  afterEach(() => jest.restoreAllMocks());

  it('samples the event-loop lag every EVENT_LOOP_SAMPLE_MS rather than every 10 ms, and still reports it', async () => {
    const monitor = jest.spyOn(perfHooks, 'monitorEventLoopDelay');
    const metrics = new RunbookMetrics();
    expect(EVENT_LOOP_SAMPLE_MS).toBeGreaterThan(10);
    expect(monitor).toHaveBeenCalledWith({ resolution: EVENT_LOOP_SAMPLE_MS });
    expect(await metrics.registry.getSingleMetricAsString('nodejs_eventloop_lag_p99_seconds')).toMatch(
      /^nodejs_eventloop_lag_p99_seconds \S+$/m,
    );
  });
});
