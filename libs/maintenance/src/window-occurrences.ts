import { CronExpressionParser, type CronExpression } from 'cron-parser';

/**
 * Why `opens` cannot be used as a window's cron expression, or undefined when it can: 5 fields
 * (minute hour day-of-month month day-of-week) or 6 with seconds first, as cron-parser reads them.
 */
export function cronProblem(opens: string, timezone: string): string | undefined {
  const fields = opens.trim().split(/\s+/).length;
  if (fields !== 5 && fields !== 6)
    return `must have 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first, not ${fields}`;
  try {
    CronExpressionParser.parse(opens, { tz: timezone, currentDate: new Date(0) });
    return undefined;
  } catch (error) {
    return `is not a valid cron expression: ${(error as Error).message}`;
  }
}

/** An interval of time during which a window is open, in epoch milliseconds: [start, end). */
export interface OpenInterval {
  start: number;
  end: number;
}

/** How many chained occurrences an open interval is followed through (for windows longer than their period). */
const MAX_CHAINED_OCCURRENCES = 1000;

/**
 * The occurrences of a window's cron expression in its time zone, and when it is open.
 *
 * The occurrences are the ones cron-parser's `next()` yields when iterating forward from well
 * before: that is the one consistent set its DST handling gives. Around a DST change, cron-parser
 * answers differently depending on where a query starts (measured with cron-parser 5.10 / luxon
 * 3.7, daily 02:30 Europe/Berlin):
 * - spring forward (02:30 does not exist): iterating forward gives the day's opening at 03:30
 *   summer time, but `prev()` never returns it, and `next()` from the hour after the change skips
 *   it;
 * - fall back (02:30 happens twice): iterating forward gives the first 02:30 only, but `prev()`
 *   returns both, and `next()` from between the two returns the second.
 * So this class never takes an answer of `prev()` (or of `next()` from just after a change of the
 * zone's UTC offset) as it is: `prev()` only finds a point to iterate forward from, and forward
 * iteration starts before the last offset change when that change is less than 3 hours back.
 * See README.md for what this means for a window.
 */
export class WindowOccurrences {
  private readonly durationMs: number;

  constructor(
    readonly opens: string,
    readonly timezone: string,
    durationSeconds: number,
    /** Seeds `H` (hashed) fields so that every evaluation picks the same values. */
    private readonly hashSeed?: string,
  ) {
    this.durationMs = durationSeconds * 1000;
    this.parse(0); // throws now on an expression cron-parser cannot read
  }

  /** The occurrences strictly after `after`, in order (each a start of the window, epoch ms). */
  *after(after: number): Generator<number> {
    const iterator = this.parse(stableStart(this.timezone, after));
    for (;;) {
      let next: number;
      try {
        next = iterator.next().getTime();
      } catch {
        return; // cron-parser found no further occurrence within its loop limit
      }
      if (next > after) yield next;
    }
  }

  /** The first occurrence strictly after `after`. */
  nextStart(after: number): number | undefined {
    for (const start of this.after(after)) return start;
    return undefined;
  }

  /** The latest occurrence at or before `at` (an occurrence exactly at `at` has started). */
  latestStart(at: number): number | undefined {
    // prev() is strictly before its currentDate, hence at + 1 ms. Its answers only mark where to
    // iterate forward from: near a DST change it may skip an occurrence or return one that forward
    // iteration does not have; then the forward pass finds nothing and we step back once more.
    const backwards = this.parse(at + 1);
    for (let attempt = 0; attempt < 4; attempt++) {
      let candidate: number;
      try {
        candidate = backwards.prev().getTime();
      } catch {
        return undefined;
      }
      let latest: number | undefined;
      for (const start of this.after(candidate - 1)) {
        if (start > at) break;
        latest = start;
      }
      if (latest !== undefined) return latest;
    }
    return undefined;
  }

  /**
   * The open interval containing `at`, if the window is open then: the latest occurrence start S
   * with S <= at < S + duration. When later occurrences start before (or exactly when) it closes,
   * the interval runs on to the end of the last of them (at most 1000 occurrences are followed).
   */
  openAt(at: number): OpenInterval | undefined {
    const start = this.latestStart(at);
    if (start === undefined || at >= start + this.durationMs) return undefined;
    let end = start + this.durationMs;
    let followed = 0;
    for (const next of this.after(start)) {
      if (next > end || ++followed > MAX_CHAINED_OCCURRENCES) break;
      end = Math.max(end, next + this.durationMs);
    }
    return { start, end };
  }

  private parse(currentDate: number): CronExpression {
    return CronExpressionParser.parse(this.opens, { currentDate: new Date(currentDate), tz: this.timezone, hashSeed: this.hashSeed });
  }
}

/** How far back a change of the zone's UTC offset makes forward iteration start before it. */
const OFFSET_CHANGE_LOOKBACK_MS = 3 * 3_600_000;

/**
 * Where to start iterating forward so that cron-parser gives the occurrences after `at` that it
 * gives when iterating from well before: `at` itself, unless the zone's UTC offset changed less
 * than 3 hours before `at`; then one second before that change.
 */
export function stableStart(timezone: string, at: number): number {
  let before = at - OFFSET_CHANGE_LOOKBACK_MS;
  const offsetBefore = utcOffsetMinutes(timezone, before);
  if (offsetBefore === utcOffsetMinutes(timezone, at)) return at;
  let after = at;
  while (after - before > 1000) {
    const middle = Math.floor((before + after) / 2);
    if (utcOffsetMinutes(timezone, middle) === offsetBefore) before = middle;
    else after = middle;
  }
  return before - 1000;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The zone's offset from UTC at that instant, in minutes (e.g. 60 for Berlin in winter). */
export function utcOffsetMinutes(timezone: string, at: number): number {
  let format = formatters.get(timezone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timezone, format);
  }
  const parts: Record<string, number> = {};
  for (const part of format.formatToParts(new Date(at))) parts[part.type] = Number(part.value);
  const wall = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second);
  return Math.round((wall - Math.floor(at / 1000) * 1000) / 60_000);
}
