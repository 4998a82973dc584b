import type { MaintenanceCalendar, MaintenanceWindow, WindowVerdict } from '@runbooks/contracts';
import { evaluateWindow } from './evaluate-window';

/**
 * A daily 02:30 window (open one hour) on the DST change days of 2026, as cron-parser 5 / luxon 3
 * resolve it (the occurrences forward iteration gives; see WindowOccurrences and README.md):
 * - a 02:30 that does not exist (spring forward) opens at 03:30 summer time, the instant 02:30
 *   would have been without the change; the window then closes an hour later, 04:30 summer time;
 * - a 02:30 that happens twice (Berlin fall back) opens once, at the first (summer time) 02:30, and
 *   closes an hour later, which is the second 02:30; it does not open again that night;
 * - New York falls back from 02:00 to 01:00, so 02:30 happens once there; its 01:30 happens twice
 *   and, like Berlin's 02:30, opens at the first only.
 */
function daily(name: string, opens: string, timezone: string): MaintenanceWindow {
  return { name, opens, timezone, durationSeconds: 3600, description: '' };
}
const calendar: MaintenanceCalendar = {
  windows: [
    daily('berlin', '30 2 * * *', 'Europe/Berlin'),
    daily('new-york', '30 2 * * *', 'America/New_York'),
    daily('new-york-0130', '30 1 * * *', 'America/New_York'),
  ],
  freezes: [],
};

function verdicts(window: string, instants: string[]): (WindowVerdict & { at: string })[] {
  return instants.map((at) => ({ at, ...evaluateWindow(calendar, window, new Date(at)) }));
}
const brief = (v: WindowVerdict & { at: string }) => `${v.at} ${v.open ? 'open' : 'closed'} until ${v.until}`;

describe('a daily 02:30 window on DST change days', () => {
  it('Europe/Berlin spring forward (2026-03-29, 02:00 -> 03:00): opens at 03:30 CEST, 01:30Z, for one hour', () => {
    expect(
      verdicts('berlin', [
        '2026-03-28T02:30:00+01:00', // the day before: 02:30 CET
        '2026-03-29T01:59:00+01:00', // just before the change
        '2026-03-29T03:00:00+02:00', // just after it: 02:30 was skipped, the window has not opened yet
        '2026-03-29T03:30:00+02:00', // the shifted opening
        '2026-03-29T04:29:59+02:00',
        '2026-03-29T04:30:00+02:00',
        '2026-03-30T02:30:00+02:00', // the day after: 02:30 CEST
      ]).map(brief),
    ).toEqual([
      '2026-03-28T02:30:00+01:00 open until 2026-03-28T02:30:00.000Z',
      '2026-03-29T01:59:00+01:00 closed until 2026-03-29T01:30:00.000Z',
      '2026-03-29T03:00:00+02:00 closed until 2026-03-29T01:30:00.000Z',
      '2026-03-29T03:30:00+02:00 open until 2026-03-29T02:30:00.000Z',
      '2026-03-29T04:29:59+02:00 open until 2026-03-29T02:30:00.000Z',
      '2026-03-29T04:30:00+02:00 closed until 2026-03-30T00:30:00.000Z',
      '2026-03-30T02:30:00+02:00 open until 2026-03-30T01:30:00.000Z',
    ]);
    expect(evaluateWindow(calendar, 'berlin', new Date('2026-03-29T00:00:00Z')).reason).toBe(
      'maintenance window berlin opens at 2026-03-29T01:30:00.000Z',
    );
  });

  it('Europe/Berlin fall back (2026-10-25, 03:00 -> 02:00): opens at the first 02:30 (CEST, 00:30Z) only, until the second', () => {
    expect(
      verdicts('berlin', [
        '2026-10-25T02:29:59+02:00',
        '2026-10-25T02:30:00+02:00', // first 02:30
        '2026-10-25T02:15:00+01:00', // the repeated hour: still open from the first 02:30
        '2026-10-25T02:30:00+01:00', // second 02:30: the hour is over, and it does not open again
        '2026-10-26T02:30:00+01:00', // the day after: 02:30 CET
      ]).map(brief),
    ).toEqual([
      '2026-10-25T02:29:59+02:00 closed until 2026-10-25T00:30:00.000Z',
      '2026-10-25T02:30:00+02:00 open until 2026-10-25T01:30:00.000Z',
      '2026-10-25T02:15:00+01:00 open until 2026-10-25T01:30:00.000Z',
      '2026-10-25T02:30:00+01:00 closed until 2026-10-26T01:30:00.000Z',
      '2026-10-26T02:30:00+01:00 open until 2026-10-26T02:30:00.000Z',
    ]);
  });

  it('America/New_York spring forward (2026-03-08, 02:00 -> 03:00): opens at 03:30 EDT, 07:30Z, for one hour', () => {
    expect(
      verdicts('new-york', [
        '2026-03-07T02:30:00-05:00',
        '2026-03-08T01:59:00-05:00',
        '2026-03-08T03:10:00-04:00',
        '2026-03-08T03:30:00-04:00',
        '2026-03-08T04:30:00-04:00',
        '2026-03-09T02:30:00-04:00',
      ]).map(brief),
    ).toEqual([
      '2026-03-07T02:30:00-05:00 open until 2026-03-07T08:30:00.000Z',
      '2026-03-08T01:59:00-05:00 closed until 2026-03-08T07:30:00.000Z',
      '2026-03-08T03:10:00-04:00 closed until 2026-03-08T07:30:00.000Z',
      '2026-03-08T03:30:00-04:00 open until 2026-03-08T08:30:00.000Z',
      '2026-03-08T04:30:00-04:00 closed until 2026-03-09T06:30:00.000Z',
      '2026-03-09T02:30:00-04:00 open until 2026-03-09T07:30:00.000Z',
    ]);
  });

  it('America/New_York fall back (2026-11-01, 02:00 -> 01:00): 02:30 happens once (EST, 07:30Z); 01:30 opens at the first only', () => {
    expect(
      verdicts('new-york', [
        '2026-10-31T02:30:00-04:00',
        '2026-11-01T01:30:00-05:00', // the repeated hour, before 02:30 EST
        '2026-11-01T02:30:00-05:00',
        '2026-11-01T03:30:00-05:00',
      ]).map(brief),
    ).toEqual([
      '2026-10-31T02:30:00-04:00 open until 2026-10-31T07:30:00.000Z',
      '2026-11-01T01:30:00-05:00 closed until 2026-11-01T07:30:00.000Z',
      '2026-11-01T02:30:00-05:00 open until 2026-11-01T08:30:00.000Z',
      '2026-11-01T03:30:00-05:00 closed until 2026-11-02T07:30:00.000Z',
    ]);
    expect(
      verdicts('new-york-0130', ['2026-11-01T01:30:00-04:00', '2026-11-01T01:30:00-05:00', '2026-11-01T02:00:00-05:00']).map(brief),
    ).toEqual([
      '2026-11-01T01:30:00-04:00 open until 2026-11-01T06:30:00.000Z',
      '2026-11-01T01:30:00-05:00 closed until 2026-11-02T06:30:00.000Z',
      '2026-11-01T02:00:00-05:00 closed until 2026-11-02T06:30:00.000Z',
    ]);
  });

  it.each([
    ['berlin', '2026-03-28T00:00:00Z'],
    ['berlin', '2026-10-24T00:00:00Z'],
    ['new-york', '2026-03-07T00:00:00Z'],
    ['new-york', '2026-10-31T00:00:00Z'],
    ['new-york-0130', '2026-10-31T00:00:00Z'],
  ])('every verdict of %s from %s across the change holds until its until, and flips exactly then', (window, from) => {
    let instant = Date.parse(from);
    const end = instant + 3 * 86_400_000;
    const flips: string[] = [];
    while (instant < end) {
      const verdict = evaluateWindow(calendar, window, new Date(instant));
      const until = Date.parse(verdict.until!);
      expect(until).toBeGreaterThan(instant);
      for (const probe of [instant + (until - instant) / 2, until - 1]) {
        expect({ at: new Date(probe).toISOString(), open: evaluateWindow(calendar, window, new Date(probe)).open }).toEqual({
          at: new Date(probe).toISOString(),
          open: verdict.open,
        });
      }
      expect(evaluateWindow(calendar, window, new Date(until)).open).toBe(!verdict.open);
      flips.push(verdict.until!);
      instant = until;
    }
    expect(flips.length).toBe(7); // opens and closes once a day (change day included), then the next opening
  });
});
