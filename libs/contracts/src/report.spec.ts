import { renderReportMarkdown } from './report';
import type { RunState } from './run-state';

const state: RunState = {
  runId: 'data-restore-42',
  runbook: 'data-restore',
  title: 'Data restore',
  requestedBy: { id: 'tess', displayName: 'Tess Technician' },
  requestedAt: '2026-11-22T10:00:00.000Z',
  endedAt: '2026-11-22T10:03:00.000Z',
  status: 'cancelled',
  input: {},
  steps: [
    { id: 'check-repository', title: 'Verify | check', state: 'succeeded', attempts: 2, summary: 'restic check: no errors' },
    { id: 'swap-into-target', title: 'Swap', state: 'compensated', attempts: 1, summary: 'retained at /srv/p.pre' },
    { id: 'notify-users', title: 'Notify', state: 'failed', attempts: 5, error: 'receiver answered 500' },
  ],
  gates: [
    {
      id: 'approve-restore',
      title: 'Restore approval',
      state: 'approved',
      allowedRoles: ['approver'],
      requiredApprovals: 1,
      openedAt: '2026-11-22T10:00:05.000Z',
      closedAt: '2026-11-22T10:01:00.000Z',
      decisions: [
        { by: 'alex', displayName: 'Alex Approver', decision: 'approve', comment: 'ok for INC-1', at: '2026-11-22T10:01:00.000Z' },
      ],
      escalations: [{ tier: 2, contact: 'noc', at: '2026-11-22T10:00:35.000Z', reason: 'no decision within 30 s' }],
    },
  ],
  compensations: [{ stepId: 'swap-into-target', title: 'Put the previous contents back', state: 'done', at: '2026-11-22T10:02:59.000Z' }],
  cancellation: { by: 'tess', reason: 'found the file', at: '2026-11-22T10:02:50.000Z' },
  outcome: { filesRestored: 3 },
};

describe('renderReportMarkdown', () => {
  const markdown = renderReportMarkdown(state);

  test('states who asked, the outcome, the duration and the cancellation', () => {
    expect(markdown).toContain('# Data restore: data-restore-42');
    expect(markdown).toContain('- **Requested by:** Tess Technician (tess) at 2026-11-22T10:00:00.000Z');
    expect(markdown).toContain('(3 min)');
    expect(markdown).toContain('- **Cancelled by:** tess at 2026-11-22T10:02:50.000Z: found the file');
    expect(markdown).toContain('- **filesRestored:** 3');
  });

  test('lists every step with attempts and results, escaping table pipes', () => {
    expect(markdown).toContain('| 1 | Verify \\| check | succeeded |  |  | 2 | restic check: no errors |');
    expect(markdown).toContain('| 3 | Notify | failed |  |  | 5 | error: receiver answered 500 |');
  });

  test('records approvals with the approver, comment and escalations', () => {
    expect(markdown).toContain('- **approve** by Alex Approver (alex) at 2026-11-22T10:01:00.000Z: "ok for INC-1"');
    expect(markdown).toContain('- Escalated to tier 2 (noc) at 2026-11-22T10:00:35.000Z: no decision within 30 s');
  });

  test('says what was undone', () => {
    expect(markdown).toContain('## Undone');
    expect(markdown).toContain('- Put the previous contents back (swap-into-target): done at 2026-11-22T10:02:59.000Z');
  });
});
