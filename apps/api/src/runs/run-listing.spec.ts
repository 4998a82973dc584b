import { visibilityQuery } from './run-listing';
import { canonicalJson } from './runs.service';

describe('visibilityQuery', () => {
  it('scopes every listing to the task queue and to runbook runs', () => {
    expect(visibilityQuery('runbooks', {})).toBe("TaskQueue = 'runbooks' AND RunbookName IS NOT NULL");
  });

  it('puts each filter in as a quoted search attribute comparison', () => {
    expect(
      visibilityQuery('runbooks', {
        runbook: 'data-restore',
        status: 'awaiting_approval',
        requestedBy: 'tess',
        awaitingApproval: true,
        openOnly: true,
      }),
    ).toBe(
      "TaskQueue = 'runbooks' AND RunbookName IS NOT NULL AND RunbookName = 'data-restore' AND RunStatus = 'awaiting_approval'" +
        " AND RequestedBy = 'tess' AND AwaitingApproval = true AND ExecutionStatus = 'Running'",
    );
  });

  it('finds the runs of one schedule by the ScheduleId search attribute', () => {
    expect(visibilityQuery('runbooks', { scheduleId: 'nightly-restore' })).toBe(
      "TaskQueue = 'runbooks' AND RunbookName IS NOT NULL AND ScheduleId = 'nightly-restore'",
    );
  });

  it('escapes quotes and backslashes, so a value can never end its string literal', () => {
    expect(visibilityQuery("q'1", { requestedBy: "x\\' OR 'a'='a" })).toBe(
      "TaskQueue = 'q\\'1' AND RunbookName IS NOT NULL AND RequestedBy = 'x\\\\\\' OR \\'a\\'=\\'a'",
    );
  });
});

describe('canonicalJson', () => {
  it('is the same for the same input whatever the key order, and differs when a value differs', () => {
    const a = { repository: { url: 'u', passwordRef: 'env:P' }, affectedUsers: ['x', 'y'], ticket: undefined };
    const b = { affectedUsers: ['x', 'y'], repository: { passwordRef: 'env:P', url: 'u' } };
    expect(canonicalJson(a)).toBe(canonicalJson(b));
    expect(canonicalJson({ ...b, affectedUsers: ['y', 'x'] })).not.toBe(canonicalJson(b));
  });
});
