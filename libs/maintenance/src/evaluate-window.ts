import type { MaintenanceCalendar, MaintenanceWindow, WindowVerdict } from '@runbooks/contracts';
import { ApplicationFailure } from '@temporalio/common';
import { calendarInvalid, MaintenanceFailureType } from './failures';
import { cronProblem, WindowOccurrences } from './window-occurrences';

/** One freeze period, with the freeze it belongs to, in epoch milliseconds: [from, to). */
interface FreezePeriod {
  freeze: string;
  reason: string;
  from: number;
  to: number;
}

/** Freeze periods that overlap or touch, merged: changes are frozen from `from` until `to`. */
interface FreezeRun {
  from: number;
  to: number;
  periods: FreezePeriod[];
}

/** How many frozen openings are skipped when looking for the first opening after a freeze. */
const MAX_FROZEN_OPENINGS = 1000;

/**
 * Whether changes may be made at `at` under the window named `windowName` (undefined: no window
 * required) and every change freeze of the calendar, and until when that holds.
 *
 * - A freeze period containing `at` (from <= at < to) closes everything; `until` is the end of
 *   that period, or of the run of periods it overlaps or touches.
 * - No window named: open unless frozen, until the next freeze starts (no `until` when none does).
 * - A window named that the calendar lacks: a non-retryable MaintenanceWindowUnknown.
 * - A window: open iff the latest opening S <= at has S <= at < S + duration; then `until` is the
 *   earlier of the window's close and the next freeze start. Closed: the reason names the next
 *   opening; an opening that falls in a freeze is skipped for the first time after the freeze when
 *   the window is open (the freeze's end if the window is still open then, else its next opening),
 *   and the reason says so; `until` is the earlier of that opening and the next freeze start.
 *
 * Openings are computed by cron-parser in the window's time zone; for what happens on DST change
 * days (a 02:30 opening on the day 02:30 does not exist, or happens twice) see WindowOccurrences
 * and README.md. Every instant in the verdict is a UTC ISO 8601 string. Pure: no clock, no I/O.
 */
export function evaluateWindow(calendar: MaintenanceCalendar, windowName: string | undefined, at: Date): WindowVerdict {
  const now = at.getTime();
  if (Number.isNaN(now)) {
    throw ApplicationFailure.nonRetryable(
      'the instant to evaluate the maintenance window at is not a valid date',
      MaintenanceFailureType.invalidInput,
    );
  }
  const window = windowName === undefined ? undefined : findWindow(calendar, windowName);
  const runs = freezeRuns(calendar);

  const frozen = runs.find((run) => run.from <= now && now < run.to);
  if (frozen) return frozenVerdict(frozen, now);
  const nextFreeze = runs.find((run) => run.from > now);

  if (!window) {
    return nextFreeze
      ? { open: true, reason: `no maintenance window required; ${freezeBegins(nextFreeze)}`, until: iso(nextFreeze.from) }
      : { open: true, reason: 'no maintenance window required and no change freeze ahead' };
  }

  const occurrences = windowOccurrences(window);
  const open = occurrences.openAt(now);
  if (open) {
    const freezeFirst = nextFreeze !== undefined && nextFreeze.from < open.end;
    return {
      open: true,
      reason: `maintenance window ${window.name} is open until ${iso(open.end)}${freezeFirst ? `; ${freezeBegins(nextFreeze)}` : ''}`,
      until: iso(freezeFirst ? nextFreeze.from : open.end),
    };
  }

  // Closed: the next opening, skipping openings that fall in a freeze.
  let opening = occurrences.nextStart(now);
  let skipped: { opening: number; run: FreezeRun } | undefined;
  for (let i = 0; opening !== undefined && i < MAX_FROZEN_OPENINGS; i++) {
    const candidate = opening;
    const run = runs.find((r) => r.from <= candidate && candidate < r.to);
    if (!run) break;
    skipped ??= { opening, run };
    // Runs are merged, so nothing is frozen at run.to; the window may still be open then.
    opening = occurrences.openAt(run.to) ? run.to : occurrences.nextStart(run.to);
  }
  const freezeFirst = nextFreeze !== undefined && (opening === undefined || nextFreeze.from < opening);
  let reason =
    opening === undefined
      ? `maintenance window ${window.name} has no opening ahead`
      : `maintenance window ${window.name} opens at ${iso(opening)}`;
  if (skipped) {
    reason += ` (after change freeze ${freezeNames(skipped.run)}: the opening at ${iso(skipped.opening)} falls in it)`;
  }
  if (freezeFirst && !skipped) reason += `; ${freezeBegins(nextFreeze)}`;
  const until = freezeFirst ? nextFreeze.from : opening;
  return until === undefined ? { open: false, reason } : { open: false, reason, until: iso(until) };
}

function findWindow(calendar: MaintenanceCalendar, name: string): MaintenanceWindow {
  const window = calendar.windows.find((w) => w.name === name);
  if (!window) {
    const known = calendar.windows.map((w) => w.name);
    throw ApplicationFailure.nonRetryable(
      `maintenance window ${name} is not in the calendar (${known.length ? `it has ${known.join(', ')}` : 'it has no windows'})`,
      MaintenanceFailureType.windowUnknown,
      { window: name },
    );
  }
  return window;
}

function windowOccurrences(window: MaintenanceWindow): WindowOccurrences {
  const problem = cronProblem(window.opens, window.timezone);
  if (problem) throw calendarInvalid(`maintenance window ${window.name}`, [{ path: 'opens', message: problem }]);
  return new WindowOccurrences(window.opens, window.timezone, window.durationSeconds, window.name);
}

/** Every freeze period, sorted by start, merged into runs where periods overlap or touch. */
function freezeRuns(calendar: MaintenanceCalendar): FreezeRun[] {
  const periods: FreezePeriod[] = calendar.freezes
    .flatMap((freeze) =>
      freeze.periods.map((p) => ({ freeze: freeze.name, reason: p.reason, from: Date.parse(p.from), to: Date.parse(p.to) })),
    )
    .filter((p) => p.from < p.to)
    .sort((a, b) => a.from - b.from || a.to - b.to);
  const runs: FreezeRun[] = [];
  for (const period of periods) {
    const last = runs.at(-1);
    if (last && period.from <= last.to) {
      last.to = Math.max(last.to, period.to);
      last.periods.push(period);
    } else {
      runs.push({ from: period.from, to: period.to, periods: [period] });
    }
  }
  return runs;
}

function frozenVerdict(run: FreezeRun, now: number): WindowVerdict {
  // The period that holds now; of several, the one that holds longest.
  const holding = run.periods.filter((p) => p.from <= now && now < p.to).sort((a, b) => b.to - a.to)[0];
  const later = [...new Set(run.periods.filter((p) => p.to > holding.to).map((p) => p.freeze))].filter((f) => f !== holding.freeze);
  const chained = later.length ? `, as change freeze ${later.join(', ')} follows without a gap` : '';
  return {
    open: false,
    reason: `change freeze ${holding.freeze}${holding.reason ? ` (${holding.reason})` : ''} until ${iso(run.to)}${chained}`,
    until: iso(run.to),
  };
}

function freezeBegins(run: FreezeRun): string {
  const first = run.periods[0];
  return `change freeze ${first.freeze}${first.reason ? ` (${first.reason})` : ''} begins at ${iso(run.from)}`;
}

function freezeNames(run: FreezeRun): string {
  return [...new Set(run.periods.map((p) => p.freeze))].join(', ');
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
