import type { HostRecord, RunDetail } from './api-types';
import { runOutcome, ExitCode } from './exit-codes';
import { progressBar, progressEvents, progressFrame } from './render';

function host(name: string, wave: number, state: HostRecord['state']): HostRecord {
  return { name, wave, state };
}

const rolloutRun: RunDetail = {
  runId: 'security-patching-7',
  runbook: 'security-patching',
  title: 'Security patching',
  requestedBy: { id: 'tess', displayName: 'Tess Technician' },
  requestedAt: '2026-11-20T10:00:00.000Z',
  status: 'running',
  temporalStatus: 'RUNNING',
  input: {},
  steps: [
    { id: 'canary-wave', title: 'Patch the canary', state: 'succeeded', attempts: 1, summary: '2 hosts patched' },
    { id: 'production-waves', title: 'Patch production in waves', state: 'running', attempts: 1 },
  ],
  gates: [],
  compensations: [],
  rollout: {
    paused: false,
    concurrency: 2,
    maxFailures: 2,
    failures: 1,
    waves: [
      { index: 0, name: 'canary', hosts: 2, state: 'done' },
      { index: 1, name: 'wave 1', hosts: 4, state: 'running' },
    ],
    hosts: [
      host('c1', 0, 'patched'),
      host('c2', 0, 'patched'),
      host('p1', 1, 'patched'),
      host('p2', 1, 'rolled_back'),
      host('p3', 1, 'patching'),
      host('p4', 1, 'pending'),
    ],
    skipped: [],
    operatorActions: [],
  },
};

describe('the watch view', () => {
  it('draws a progress bar per wave with hosts done and failed', () => {
    expect(progressFrame(rolloutRun)).toEqual([
      'security-patching-7 · security-patching · running',
      '  ✓ Patch the canary (succeeded): 2 hosts patched',
      '  > Patch production in waves (running)',
      `  canary   [${'█'.repeat(24)}] 2/2 hosts: 2 done, 0 failed (done)`,
      `  wave 1   [${'█'.repeat(12)}${'░'.repeat(12)}] 2/4 hosts: 1 done, 1 failed (running)`,
      '  hosts: 3 done, 1 failed (threshold 2), 0 skipped, 6 in all',
    ]);
  });

  it('keys each fact for plain output, so a change prints one line', () => {
    const before = progressEvents(rolloutRun);
    const after = progressEvents({
      ...rolloutRun,
      rollout: { ...rolloutRun.rollout!, hosts: rolloutRun.rollout!.hosts.map((h) => (h.name === 'p3' ? { ...h, state: 'patched' } : h)) },
    });
    const changed = [...after].filter(([key, line]) => before.get(key) !== line).map(([, line]) => line);
    expect(changed).toEqual([
      'wave wave 1   3/4 hosts: 2 done, 1 failed (running)',
      'hosts: 4 done, 1 failed (threshold 2), 0 skipped, 6 in all',
    ]);
  });

  it('fills the bar in proportion, empty for nothing done and full for an empty wave', () => {
    expect(progressBar(0, 10, 10)).toBe('[░░░░░░░░░░]');
    expect(progressBar(3, 10, 10)).toBe('[███░░░░░░░]');
    expect(progressBar(0, 0, 4)).toBe('[████]');
  });
});

describe('runOutcome', () => {
  it.each([
    ['succeeded', 'COMPLETED', ExitCode.ok],
    ['failed', 'FAILED', ExitCode.runFailed],
    ['cancelled', 'CANCELLED', ExitCode.runCancelled],
    ['rejected', 'COMPLETED', ExitCode.runRejected],
    ['running', 'TERMINATED', ExitCode.runFailed],
    ['awaiting_approval', 'RUNNING', undefined],
  ])('maps %s (Temporal %s) to exit status %s', (status, temporalStatus, code) => {
    expect(runOutcome({ status, temporalStatus })).toBe(code);
  });
});
