import { ApplicationFailure } from '@temporalio/common';

/** ApplicationFailure types of the maintenance calendar; workflows and the API match on them. */
export const MaintenanceFailureType = {
  /** A window was named that the calendar does not have. */
  windowUnknown: 'MaintenanceWindowUnknown',
  /** The calendar file, or a window or freeze given to store, does not pass validation. */
  calendarInvalid: 'MaintenanceCalendarInvalid',
  /** The input of checkMaintenanceWindow is malformed (e.g. `at` is not an ISO 8601 instant). */
  invalidInput: 'MaintenanceCheckInvalid',
} as const;

/** One validation problem, with the path of the field it concerns (e.g. `windows.2.opens`). */
export interface CalendarProblem {
  path: string;
  message: string;
}

/** A non-retryable MaintenanceCalendarInvalid naming every problem (the first ten in the message). */
export function calendarInvalid(what: string, problems: CalendarProblem[]): ApplicationFailure {
  const named = problems.slice(0, 10).map((p) => `${p.path}: ${p.message}`);
  const more = problems.length > named.length ? `; and ${problems.length - named.length} more` : '';
  return ApplicationFailure.nonRetryable(`${what} is invalid: ${named.join('; ')}${more}`, MaintenanceFailureType.calendarInvalid, {
    problems: problems.slice(0, 100),
    total: problems.length,
  });
}
