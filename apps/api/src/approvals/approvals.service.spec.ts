import type { GateRecord, Principal, RunState } from '@runbooks/contracts';
import { decidableGates } from './approvals.service';

const alex: Principal = { id: 'alex', displayName: 'Alex Approver', roles: ['approver'] };
const blair: Principal = { id: 'blair', displayName: 'Blair Approver', roles: ['approver', 'technician'] };
const tess: Principal = { id: 'tess', displayName: 'Tess Technician', roles: ['technician'] };
const ada: Principal = { id: 'ada', displayName: 'Ada Admin', roles: ['admin'] };

function gate(overrides: Partial<GateRecord> = {}): GateRecord {
  return {
    id: 'approve-restore',
    title: 'Restore /srv/projects',
    state: 'pending',
    allowedRoles: ['approver'],
    requiredApprovals: 2,
    openedAt: '2026-11-20T10:00:00.000Z',
    deadline: '2026-11-20T11:00:00.000Z',
    decisions: [],
    escalations: [],
    ...overrides,
  };
}

function run(gates: GateRecord[], requestedBy = { id: 'tess', displayName: 'Tess Technician' }): RunState {
  return {
    runId: 'data-restore-1',
    runbook: 'data-restore',
    title: 'Data restore',
    requestedBy,
    requestedAt: '2026-11-20T09:59:00.000Z',
    status: 'awaiting_approval',
    input: {},
    steps: [],
    gates,
    compensations: [],
  };
}

describe('decidableGates', () => {
  it('offers a pending gate to a holder of its role and to an admin', () => {
    expect(decidableGates(run([gate()]), alex)).toEqual([
      expect.objectContaining({
        runId: 'data-restore-1',
        gateId: 'approve-restore',
        requestedBy: { id: 'tess', displayName: 'Tess Technician' },
      }),
    ]);
    expect(decidableGates(run([gate()]), ada)).toHaveLength(1);
  });

  it('does not offer it to someone without the role', () => {
    expect(decidableGates(run([gate()]), tess)).toEqual([]);
  });

  it('does not offer it to the requester, even with the role', () => {
    expect(decidableGates(run([gate()], { id: 'blair', displayName: 'Blair Approver' }), blair)).toEqual([]);
  });

  it('does not offer it again to someone who already decided it (N of M)', () => {
    const decided = gate({
      decisions: [{ by: 'alex', displayName: 'Alex Approver', decision: 'approve', comment: '', at: '2026-11-20T10:05:00.000Z' }],
    });
    expect(decidableGates(run([decided]), alex)).toEqual([]);
    expect(decidableGates(run([decided]), blair)).toEqual([expect.objectContaining({ decisions: decided.decisions })]);
  });

  it('offers only pending gates', () => {
    expect(decidableGates(run([gate({ state: 'approved' }), gate({ id: 'later', state: 'not_reached' })]), alex)).toEqual([]);
  });
});
