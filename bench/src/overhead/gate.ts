/** The bench runbook's approval gate (engineApprovalThenNoop), shared with the benches that decide it. */
export const BENCH_GATE = 'approve';
