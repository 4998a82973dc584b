import type { RunDetail } from './api-types';

/**
 * The process exit status. A watched run exits with its outcome, so a script or a CI job can
 * branch on it without parsing output.
 */
export const ExitCode = {
  /** The command did what was asked; a watched run succeeded. */
  ok: 0,
  /** The API refused the request (4xx), failed (5xx) or could not be reached. */
  apiError: 1,
  /** The command line or a local file is wrong, or no API URL or token is configured. */
  usage: 2,
  /** The watched run failed (a step failed, or Temporal ended it: terminated, timed out). */
  runFailed: 10,
  /** The watched run was cancelled. */
  runCancelled: 11,
  /** The watched run was rejected: an approver said no, or its approval expired. */
  runRejected: 12,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** The outcome of a run that has ended, from the run's own status and Temporal's. */
export function runOutcome(run: Pick<RunDetail, 'status' | 'temporalStatus'>): ExitCode | undefined {
  switch (run.status) {
    case 'succeeded':
      return ExitCode.ok;
    case 'failed':
      return ExitCode.runFailed;
    case 'cancelled':
      return ExitCode.runCancelled;
    case 'rejected':
      return ExitCode.runRejected;
  }
  // A later edition may add statuses such as succeeded_with_warnings: still a success.
  if (run.status.startsWith('succeeded')) return ExitCode.ok;
  // The run could not record an outcome itself: Temporal ended it from outside.
  if (run.temporalStatus === 'CANCELLED') return ExitCode.runCancelled;
  if (run.temporalStatus !== 'RUNNING') return ExitCode.runFailed;
  return undefined;
}

export const EXIT_CODES_HELP = `
Exit status:
  0   success (with --watch: the run succeeded)
  1   the API refused the request (4xx, the fields it names are printed), failed (5xx) or could not be reached
  2   bad command line or local file, or no API URL / token configured (run "runbooks login")
  10  the watched run failed
  11  the watched run was cancelled
  12  the watched run was rejected (an approver rejected it or its approval expired)`;
