import {
  DAYS_OF_WEEK,
  MONTHS,
  ScheduleOverlapPolicy,
  type CalendarSpec,
  type CalendarSpecDescription,
  type DayOfWeek,
  type LooseRange,
  type Month,
  type Range,
  type ScheduleDescription,
  type ScheduleOptions,
  type ScheduleSpec as TemporalScheduleSpec,
  type ScheduleSpecDescription,
} from '@temporalio/client';
import { overlapPolicySchema, scheduleSpecSchema, schedulePoliciesSchema, type OverlapPolicy } from '@runbooks/contracts';
import type { z } from 'zod';
import { RequestValidationError } from '../http/errors';

/** A schedule spec as the API takes it (defaults applied): cron and/or calendars, in a time zone. */
export type ApiScheduleSpec = z.output<typeof scheduleSpecSchema>;
export type ApiSchedulePolicies = z.output<typeof schedulePoliciesSchema>;
type ApiCalendar = NonNullable<ApiScheduleSpec['calendars']>[number];

const OVERLAP_TO_TEMPORAL: Record<OverlapPolicy, ScheduleOverlapPolicy> = {
  skip: ScheduleOverlapPolicy.SKIP,
  buffer_one: ScheduleOverlapPolicy.BUFFER_ONE,
  buffer_all: ScheduleOverlapPolicy.BUFFER_ALL,
  cancel_other: ScheduleOverlapPolicy.CANCEL_OTHER,
  allow_all: ScheduleOverlapPolicy.ALLOW_ALL,
};

export function toTemporalOverlap(policy: OverlapPolicy): ScheduleOverlapPolicy {
  return OVERLAP_TO_TEMPORAL[policy];
}

/** Temporal's policy in the API's words; TERMINATE_OTHER (not offered by the API) is shown as cancel_other. */
export function fromTemporalOverlap(policy: ScheduleOverlapPolicy | undefined): OverlapPolicy {
  const found = overlapPolicySchema.options.find((p) => OVERLAP_TO_TEMPORAL[p] === policy);
  if (found) return found;
  return policy === ScheduleOverlapPolicy.TERMINATE_OTHER ? 'cancel_other' : 'skip';
}

export function toTemporalPolicies(policies: ApiSchedulePolicies): NonNullable<ScheduleOptions['policies']> {
  return {
    overlap: toTemporalOverlap(policies.overlap),
    catchupWindow: policies.catchupWindowSeconds * 1000,
    pauseOnFailure: policies.pauseOnFailure,
  };
}

export function fromTemporalPolicies(policies: ScheduleDescription['policies']): ApiSchedulePolicies {
  return {
    overlap: fromTemporalOverlap(policies.overlap),
    catchupWindowSeconds: Math.round(policies.catchupWindow / 1000),
    pauseOnFailure: policies.pauseOnFailure,
  };
}

/**
 * The API's spec as Temporal's: cron strings as they are (Temporal parses them), calendar fields
 * parsed from their range strings ("1-5", "mon,wed", "*\/15") into Temporal's range objects. A bad
 * field is a 400 naming it (`spec.calendars.0.hour`). A time zone inside a cron string is refused:
 * it belongs in spec.timezone, where it cannot disagree with it.
 */
export function toTemporalSpec(spec: ApiScheduleSpec, at: readonly PropertyKey[] = ['spec']): TemporalScheduleSpec {
  const issues: { path: PropertyKey[]; message: string }[] = [];
  (spec.cron ?? []).forEach((cron, i) => {
    if (/^\s*(CRON_TZ|TZ)=/i.test(cron))
      issues.push({ path: [...at, 'cron', i], message: 'give the time zone in spec.timezone, not in the cron expression' });
  });
  const calendars = (spec.calendars ?? []).map((calendar, i) => {
    const { spec: parsed, problems } = toTemporalCalendar(calendar);
    issues.push(...problems.map((p) => ({ path: [...at, 'calendars', i, p.field], message: p.message })));
    return parsed;
  });
  if (issues.length) throw new RequestValidationError('request body', issues);
  return {
    ...(spec.cron?.length ? { cronExpressions: [...spec.cron] } : {}),
    ...(calendars.length ? { calendars } : {}),
    timezone: spec.timezone,
    ...(spec.startAt ? { startAt: new Date(spec.startAt) } : {}),
    ...(spec.endAt ? { endAt: new Date(spec.endAt) } : {}),
    jitter: spec.jitterSeconds * 1000,
  };
}

interface FieldProblem {
  field: string;
  message: string;
}

type NumericField = 'second' | 'minute' | 'hour' | 'dayOfMonth';

const NUMERIC_BOUNDS: Record<NumericField, [number, number]> = {
  second: [0, 59],
  minute: [0, 59],
  hour: [0, 23],
  dayOfMonth: [1, 31],
};

const MONTH_NAMES = MONTHS.map((m) => m.toLowerCase());
const DAY_NAMES = DAYS_OF_WEEK.map((d) => d.toLowerCase());

/** One calendar entry with each field parsed; omitted fields keep Temporal's defaults (second, minute, hour 0; the rest every). */
export function toTemporalCalendar(calendar: ApiCalendar): { spec: CalendarSpec; problems: FieldProblem[] } {
  const problems: FieldProblem[] = [];
  const spec: CalendarSpec = {};
  for (const field of ['second', 'minute', 'hour', 'dayOfMonth'] as const) {
    const text = calendar[field];
    if (text === undefined) continue;
    const [min, max] = NUMERIC_BOUNDS[field];
    const parsed = parseField(text, min, max, (token) => (/^[0-9]+$/.test(token) ? Number(token) : undefined));
    if ('error' in parsed) problems.push({ field, message: parsed.error });
    else spec[field] = parsed.ranges ?? '*';
  }
  if (calendar.month !== undefined) {
    const parsed = parseField(calendar.month, 1, 12, (token) => nameOrNumber(token, MONTH_NAMES, 1));
    if ('error' in parsed) problems.push({ field: 'month', message: parsed.error });
    else
      spec.month = parsed.ranges?.map((r): Range<Month> => ({ start: MONTHS[r.start - 1], end: MONTHS[r.end - 1], step: r.step })) ?? '*';
  }
  if (calendar.dayOfWeek !== undefined) {
    // 0-7 with both 0 and 7 Sunday, as in cron; names sun..sat or sunday..saturday.
    const parsed = parseField(calendar.dayOfWeek, 0, 7, (token) => nameOrNumber(token, DAY_NAMES, 0));
    if ('error' in parsed) problems.push({ field: 'dayOfWeek', message: parsed.error });
    else spec.dayOfWeek = parsed.ranges?.flatMap(toDayRanges) ?? '*';
  }
  if (calendar.comment !== undefined) spec.comment = calendar.comment;
  return { spec, problems };
}

function toDayRanges(range: Range<number>): LooseRange<DayOfWeek>[] {
  const day = (n: number) => DAYS_OF_WEEK[n % 7];
  if (range.end < 7) return [{ start: day(range.start), end: day(range.end), step: range.step }];
  // A range reaching 7 (Sunday again): the part up to Saturday, and Sunday if the step lands on 7.
  const ranges: LooseRange<DayOfWeek>[] = [];
  if (range.start <= 6) ranges.push({ start: day(range.start), end: day(6), step: range.step });
  if ((7 - range.start) % range.step === 0) ranges.push({ start: 'SUNDAY', end: 'SUNDAY', step: 1 });
  return ranges;
}

/** A month or day given by number, by three-letter name or by full name (any case). */
function nameOrNumber(token: string, names: string[], first: number): number | undefined {
  if (/^[0-9]+$/.test(token)) return Number(token);
  const lower = token.toLowerCase();
  const index = names.findIndex((name) => name === lower || name.slice(0, 3) === lower);
  return index === -1 ? undefined : index + first;
}

/**
 * A cron-like field: `*`, or a comma list of `a`, `a-b`, `a/step`, `a-b/step` or `*\/step`.
 * Returns no ranges for `*` (every value), the ranges, or what is wrong.
 */
export function parseField(
  text: string,
  min: number,
  max: number,
  value: (token: string) => number | undefined,
): { ranges?: Range<number>[] } | { error: string } {
  const fail = (error: string) => ({ error });
  if (text.trim() === '*') return {};
  const ranges: Range<number>[] = [];
  for (const item of text.split(',')) {
    const match = /^\s*(\*|[0-9A-Za-z]+)(?:-([0-9A-Za-z]+))?(?:\/([0-9]+))?\s*$/.exec(item);
    if (!match) return fail(`"${item}" is not a value, a range a-b or a step a/n`);
    const [, first, last, stepText] = match;
    const step = stepText === undefined ? 1 : Number(stepText);
    if (step < 1) return fail(`the step in "${item}" must be at least 1`);
    let start: number | undefined;
    let end: number | undefined;
    if (first === '*') {
      if (last !== undefined) return fail(`"${item}" is not a range`);
      [start, end] = [min, max];
    } else {
      start = value(first);
      if (start === undefined) return fail(`"${first}" is not a valid value`);
      end = last !== undefined ? value(last) : stepText !== undefined ? max : start;
      if (end === undefined) return fail(`"${last}" is not a valid value`);
    }
    for (const v of [start, end]) if (v < min || v > max) return fail(`${v} is out of range ${min}-${max}`);
    if (end < start) return fail(`the range "${item}" ends before it starts`);
    ranges.push({ start, end, step });
  }
  return { ranges };
}

/**
 * A spec Temporal describes, in the API's words: used only for a schedule whose spec as given is
 * not on record (changed outside the API). Cron expressions come back from Temporal as calendars.
 */
export function fromTemporalSpec(spec: ScheduleSpecDescription): ApiScheduleSpec {
  return {
    calendars: (spec.calendars ?? []).map(fromTemporalCalendar),
    timezone: spec.timezone ?? 'UTC',
    ...(spec.startAt ? { startAt: spec.startAt.toISOString() } : {}),
    ...(spec.endAt ? { endAt: spec.endAt.toISOString() } : {}),
    jitterSeconds: Math.round((spec.jitter ?? 0) / 1000),
  };
}

function fromTemporalCalendar(calendar: CalendarSpecDescription): ApiCalendar {
  const numbers = (ranges: Range<number>[]) => ranges.map((r) => formatRange(r.start, r.end, r.step)).join(',') || '*';
  const months = calendar.month.map((r) => formatRange(MONTHS.indexOf(r.start) + 1, MONTHS.indexOf(r.end) + 1, r.step)).join(',');
  const days = calendar.dayOfWeek.map((r) => formatRange(DAYS_OF_WEEK.indexOf(r.start), DAYS_OF_WEEK.indexOf(r.end), r.step)).join(',');
  return {
    second: numbers(calendar.second),
    minute: numbers(calendar.minute),
    hour: numbers(calendar.hour),
    dayOfMonth: numbers(calendar.dayOfMonth),
    month: months === '1-12' ? '*' : months || '*',
    dayOfWeek: days === '0-6' ? '*' : days || '*',
    ...(calendar.comment ? { comment: calendar.comment } : {}),
  };
}

function formatRange(start: number, end: number, step: number): string {
  const span = end > start ? `${start}-${end}` : `${start}`;
  return step > 1 && end > start ? `${span}/${step}` : span;
}
