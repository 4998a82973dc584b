import { scheduleSpecSchema } from '@runbooks/contracts';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { RequestValidationError } from '../http/errors';
import { fromTemporalOverlap, toTemporalCalendar, toTemporalOverlap, toTemporalPolicies, toTemporalSpec } from './schedule-spec';

const spec = (input: Record<string, unknown>) => scheduleSpecSchema.parse(input);

describe('toTemporalSpec', () => {
  it('passes cron expressions through and maps time zone, start, end and jitter (seconds to ms)', () => {
    expect(
      toTemporalSpec(
        spec({
          cron: ['30 2 * * *'],
          timezone: 'Europe/Berlin',
          startAt: '2026-03-27T00:00:00+01:00',
          endAt: '2026-04-27T00:00:00Z',
          jitterSeconds: 90,
        }),
      ),
    ).toEqual({
      cronExpressions: ['30 2 * * *'],
      timezone: 'Europe/Berlin',
      startAt: new Date('2026-03-26T23:00:00Z'),
      endAt: new Date('2026-04-27T00:00:00Z'),
      jitter: 90_000,
    });
  });

  it('parses calendar range strings into Temporal range objects, months and days by name', () => {
    const { spec: parsed, problems } = toTemporalCalendar({
      minute: '0,30',
      hour: '1-5/2',
      dayOfMonth: '*',
      month: 'jan-mar,12',
      dayOfWeek: 'mon-fri',
      comment: 'weekday nights',
    });
    expect(problems).toEqual([]);
    expect(parsed).toEqual({
      minute: [
        { start: 0, end: 0, step: 1 },
        { start: 30, end: 30, step: 1 },
      ],
      hour: [{ start: 1, end: 5, step: 2 }],
      dayOfMonth: '*',
      month: [
        { start: 'JANUARY', end: 'MARCH', step: 1 },
        { start: 'DECEMBER', end: 'DECEMBER', step: 1 },
      ],
      dayOfWeek: [{ start: 'MONDAY', end: 'FRIDAY', step: 1 }],
      comment: 'weekday nights',
    });
  });

  it('reads a step from a start (a/n runs to the end of the field) and 7 as Sunday', () => {
    expect(toTemporalCalendar({ minute: '5/20', dayOfWeek: '7' }).spec).toEqual({
      minute: [{ start: 5, end: 59, step: 20 }],
      dayOfWeek: [{ start: 'SUNDAY', end: 'SUNDAY', step: 1 }],
    });
    expect(toTemporalCalendar({ dayOfWeek: 'fri-7' }).spec.dayOfWeek).toEqual([
      { start: 'FRIDAY', end: 'SATURDAY', step: 1 },
      { start: 'SUNDAY', end: 'SUNDAY', step: 1 },
    ]);
  });

  it('refuses out-of-range values and unknown names with a 400 naming spec.calendars.N.field', () => {
    const bad = spec({ calendars: [{ hour: '2' }, { hour: '25', month: 'smarch', dayOfMonth: '5-2' }] });
    let error: unknown;
    try {
      toTemporalSpec(bad);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RequestValidationError);
    expect((error as RequestValidationError).issues.map((i) => i.path)).toEqual([
      'spec.calendars.1.hour',
      'spec.calendars.1.dayOfMonth',
      'spec.calendars.1.month',
    ]);
  });

  it('refuses a time zone inside a cron expression (it belongs in spec.timezone)', () => {
    expect(() => toTemporalSpec(spec({ cron: ['CRON_TZ=Asia/Tokyo 0 3 * * *'] }))).toThrow(/spec\.cron\.0/);
  });
});

describe('policies', () => {
  it('maps every overlap policy to Temporal and back, and catch-up seconds to ms', () => {
    for (const policy of ['skip', 'buffer_one', 'buffer_all', 'cancel_other', 'allow_all'] as const) {
      expect(fromTemporalOverlap(toTemporalOverlap(policy))).toBe(policy);
    }
    expect(toTemporalPolicies({ overlap: 'buffer_one', catchupWindowSeconds: 600, pauseOnFailure: true })).toEqual({
      overlap: ScheduleOverlapPolicy.BUFFER_ONE,
      catchupWindow: 600_000,
      pauseOnFailure: true,
    });
  });
});
