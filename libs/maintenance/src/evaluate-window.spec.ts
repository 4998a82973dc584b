import type { ChangeFreeze, MaintenanceCalendar, MaintenanceWindow } from '@runbooks/contracts';
import { ApplicationFailure } from '@temporalio/common';
import { evaluateWindow } from './evaluate-window';
import { MaintenanceFailureType } from './failures';

const sundayNight: MaintenanceWindow = {
  name: 'sunday-night',
  opens: '0 1 * * 0', // Sundays 01:00-05:00 Berlin
  timezone: 'Europe/Berlin',
  durationSeconds: 4 * 3600,
  description: '',
};
const tick: MaintenanceWindow = { name: 'tick', opens: '*/10 * * * * *', timezone: 'Europe/Berlin', durationSeconds: 5, description: '' };
const yearEnd: ChangeFreeze = {
  name: 'year-end',
  periods: [{ from: '2026-12-24T00:00:00+01:00', to: '2027-01-02T00:00:00+01:00', reason: 'holidays' }],
};

function calendar(windows: MaintenanceWindow[], freezes: ChangeFreeze[] = []): MaintenanceCalendar {
  return { windows, freezes };
}

const at = (instant: string) => new Date(instant);

describe('evaluateWindow', () => {
  describe('a window Sundays 01:00-05:00 Europe/Berlin', () => {
    const cal = calendar([sundayNight]);

    it('is open on Sunday 02:00 local, until 05:00 local (winter and summer time)', () => {
      expect(evaluateWindow(cal, 'sunday-night', at('2026-01-11T02:00:00+01:00'))).toEqual({
        open: true,
        reason: 'maintenance window sunday-night is open until 2026-01-11T04:00:00.000Z',
        until: '2026-01-11T04:00:00.000Z',
      });
      expect(evaluateWindow(cal, 'sunday-night', at('2026-07-12T02:00:00+02:00'))).toMatchObject({
        open: true,
        until: '2026-07-12T03:00:00.000Z',
      });
    });

    it('is closed on Saturday and opens Sunday 01:00 local: 00:00Z in winter, 23:00Z Saturday in summer', () => {
      expect(evaluateWindow(cal, 'sunday-night', at('2026-01-10T12:00:00Z'))).toEqual({
        open: false,
        reason: 'maintenance window sunday-night opens at 2026-01-11T00:00:00.000Z',
        until: '2026-01-11T00:00:00.000Z',
      });
      expect(evaluateWindow(cal, 'sunday-night', at('2026-07-11T12:00:00Z'))).toEqual({
        open: false,
        reason: 'maintenance window sunday-night opens at 2026-07-11T23:00:00.000Z',
        until: '2026-07-11T23:00:00.000Z',
      });
    });

    it('is open exactly at 01:00:00 local, and closed one millisecond before', () => {
      expect(evaluateWindow(cal, 'sunday-night', at('2026-01-11T01:00:00+01:00'))).toMatchObject({
        open: true,
        until: '2026-01-11T04:00:00.000Z',
      });
      expect(evaluateWindow(cal, 'sunday-night', at('2026-01-11T00:59:59.999+01:00'))).toMatchObject({
        open: false,
        until: '2026-01-11T00:00:00.000Z',
      });
    });

    it('is closed exactly at 05:00:00 local and opens the next Sunday', () => {
      expect(evaluateWindow(cal, 'sunday-night', at('2026-01-11T04:59:59.999+01:00')).open).toBe(true);
      expect(evaluateWindow(cal, 'sunday-night', at('2026-01-11T05:00:00+01:00'))).toEqual({
        open: false,
        reason: 'maintenance window sunday-night opens at 2026-01-18T00:00:00.000Z',
        until: '2026-01-18T00:00:00.000Z',
      });
      expect(evaluateWindow(cal, 'sunday-night', at('2026-07-12T05:00:00+02:00'))).toMatchObject({
        open: false,
        until: '2026-07-18T23:00:00.000Z',
      });
    });
  });

  it('a seconds-level window (every 10 s, open 5 s) opens and closes on the second', () => {
    const cal = calendar([tick]);
    const verdicts = [
      '2026-05-04T10:00:00.000Z',
      '2026-05-04T10:00:04.999Z',
      '2026-05-04T10:00:05.000Z',
      '2026-05-04T10:00:07.500Z',
      '2026-05-04T10:00:09.999Z',
      '2026-05-04T10:00:10.000Z',
      '2026-05-04T10:00:59.000Z',
    ].map((instant) => ({ instant, ...evaluateWindow(cal, 'tick', at(instant)) }));

    expect(verdicts.map(({ instant, open, until }) => ({ instant, open, until }))).toEqual([
      { instant: '2026-05-04T10:00:00.000Z', open: true, until: '2026-05-04T10:00:05.000Z' },
      { instant: '2026-05-04T10:00:04.999Z', open: true, until: '2026-05-04T10:00:05.000Z' },
      { instant: '2026-05-04T10:00:05.000Z', open: false, until: '2026-05-04T10:00:10.000Z' },
      { instant: '2026-05-04T10:00:07.500Z', open: false, until: '2026-05-04T10:00:10.000Z' },
      { instant: '2026-05-04T10:00:09.999Z', open: false, until: '2026-05-04T10:00:10.000Z' },
      { instant: '2026-05-04T10:00:10.000Z', open: true, until: '2026-05-04T10:00:15.000Z' },
      { instant: '2026-05-04T10:00:59.000Z', open: false, until: '2026-05-04T10:01:00.000Z' },
    ]);
    expect(verdicts[2].reason).toBe('maintenance window tick opens at 2026-05-04T10:00:10.000Z');
  });

  it('a window whose openings overlap stays open to the end of the last overlapping one', () => {
    const hourly: MaintenanceWindow = { name: 'hourly', opens: '0 * * * *', timezone: 'UTC', durationSeconds: 3600, description: '' };
    const short: MaintenanceWindow = { ...tick, name: 'short', durationSeconds: 10 }; // each opening ends as the next begins

    expect(evaluateWindow(calendar([hourly]), 'hourly', at('2026-05-04T10:30:00Z')).open).toBe(true);
    expect(Date.parse(evaluateWindow(calendar([hourly]), 'hourly', at('2026-05-04T10:30:00Z')).until!)).toBeGreaterThan(
      Date.parse('2026-05-05T10:00:00Z'),
    );
    expect(Date.parse(evaluateWindow(calendar([short]), 'short', at('2026-05-04T10:00:00Z')).until!)).toBeGreaterThan(
      Date.parse('2026-05-04T10:01:00Z'),
    );
  });

  describe('change freezes', () => {
    it('a freeze containing the instant closes even an open window, and says until when', () => {
      // Sunday 2026-12-27 02:00 Berlin: the window is open by its schedule, but year-end holds.
      expect(evaluateWindow(calendar([sundayNight], [yearEnd]), 'sunday-night', at('2026-12-27T02:00:00+01:00'))).toEqual({
        open: false,
        reason: 'change freeze year-end (holidays) until 2027-01-01T23:00:00.000Z',
        until: '2027-01-01T23:00:00.000Z',
      });
    });

    it('a freeze is closed from its start, inclusive, and open again at its end', () => {
      const cal = calendar([], [yearEnd]);

      expect(evaluateWindow(cal, undefined, at('2026-12-23T22:59:59.999Z')).open).toBe(true);
      expect(evaluateWindow(cal, undefined, at('2026-12-23T23:00:00.000Z')).open).toBe(false);
      expect(evaluateWindow(cal, undefined, at('2027-01-01T22:59:59.999Z')).open).toBe(false);
      expect(evaluateWindow(cal, undefined, at('2027-01-01T23:00:00.000Z'))).toEqual({
        open: true,
        reason: 'no maintenance window required and no change freeze ahead',
      });
    });

    it('periods that overlap or chain close until the end of the whole run, and name the freeze that follows', () => {
      const inventory: ChangeFreeze = {
        name: 'stock-count',
        periods: [{ from: '2027-01-01T23:00:00Z', to: '2027-01-05T00:00:00Z', reason: '' }],
      };
      const overlapping: ChangeFreeze = {
        name: 'audit',
        periods: [{ from: '2027-01-04T00:00:00Z', to: '2027-01-06T12:00:00Z', reason: 'audit' }],
      };

      expect(evaluateWindow(calendar([], [yearEnd, inventory, overlapping]), undefined, at('2026-12-28T00:00:00Z'))).toEqual({
        open: false,
        reason:
          'change freeze year-end (holidays) until 2027-01-06T12:00:00.000Z, as change freeze stock-count, audit follows without a gap',
        until: '2027-01-06T12:00:00.000Z',
      });
      expect(evaluateWindow(calendar([], [yearEnd, inventory, overlapping]), undefined, at('2027-01-03T00:00:00Z'))).toMatchObject({
        reason: 'change freeze stock-count until 2027-01-06T12:00:00.000Z, as change freeze audit follows without a gap',
      });
    });

    it('a window opening inside a freeze reports the first opening after it, and says so', () => {
      // Monday 2026-12-21: the next opening, Sunday 12-27 01:00 Berlin, is frozen; the one after is 2027-01-03.
      expect(evaluateWindow(calendar([sundayNight], [yearEnd]), 'sunday-night', at('2026-12-21T12:00:00Z'))).toEqual({
        open: false,
        reason:
          'maintenance window sunday-night opens at 2027-01-03T00:00:00.000Z ' +
          '(after change freeze year-end: the opening at 2026-12-27T00:00:00.000Z falls in it)',
        until: '2026-12-23T23:00:00.000Z', // the freeze starting is the next change
      });
    });

    it('a freeze that ends while the window is open lets changes start when it ends', () => {
      const endsSundayNight: ChangeFreeze = {
        name: 'year-end',
        periods: [{ from: '2026-12-24T00:00:00+01:00', to: '2027-01-03T02:00:00+01:00', reason: 'holidays' }],
      };
      const cal = calendar([sundayNight], [endsSundayNight]);

      expect(evaluateWindow(cal, 'sunday-night', at('2026-12-21T12:00:00Z')).reason).toBe(
        'maintenance window sunday-night opens at 2027-01-03T01:00:00.000Z ' +
          '(after change freeze year-end: the opening at 2026-12-27T00:00:00.000Z falls in it)',
      );
      expect(evaluateWindow(cal, 'sunday-night', at('2027-01-03T02:00:00+01:00'))).toMatchObject({
        open: true,
        until: '2027-01-03T04:00:00.000Z',
      });
    });

    it('an open window closes early when a freeze starts before its end', () => {
      const midWindow: ChangeFreeze = {
        name: 'incident',
        periods: [{ from: '2026-01-11T03:00:00+01:00', to: '2026-01-12T00:00:00+01:00', reason: 'INC-42' }],
      };

      expect(evaluateWindow(calendar([sundayNight], [midWindow]), 'sunday-night', at('2026-01-11T02:00:00+01:00'))).toEqual({
        open: true,
        reason:
          'maintenance window sunday-night is open until 2026-01-11T04:00:00.000Z; ' +
          'change freeze incident (INC-42) begins at 2026-01-11T02:00:00.000Z',
        until: '2026-01-11T02:00:00.000Z',
      });
    });

    it('a closed window whose next opening comes after a freeze starts changes verdict when the freeze starts', () => {
      const saturday: ChangeFreeze = {
        name: 'release',
        periods: [{ from: '2026-01-10T18:00:00Z', to: '2026-01-10T20:00:00Z', reason: '' }],
      };

      expect(evaluateWindow(calendar([sundayNight], [saturday]), 'sunday-night', at('2026-01-10T12:00:00Z'))).toEqual({
        open: false,
        reason:
          'maintenance window sunday-night opens at 2026-01-11T00:00:00.000Z; change freeze release begins at 2026-01-10T18:00:00.000Z',
        until: '2026-01-10T18:00:00.000Z',
      });
    });
  });

  describe('no window named', () => {
    it('is open until the next freeze starts', () => {
      expect(evaluateWindow(calendar([sundayNight], [yearEnd]), undefined, at('2026-12-01T00:00:00Z'))).toEqual({
        open: true,
        reason: 'no maintenance window required; change freeze year-end (holidays) begins at 2026-12-23T23:00:00.000Z',
        until: '2026-12-23T23:00:00.000Z',
      });
    });

    it('is open with no until when no freeze lies ahead, whatever the windows say', () => {
      expect(evaluateWindow(calendar([sundayNight], [yearEnd]), undefined, at('2027-02-01T00:00:00Z'))).toEqual({
        open: true,
        reason: 'no maintenance window required and no change freeze ahead',
      });
    });

    it('is closed inside a freeze', () => {
      expect(evaluateWindow(calendar([], [yearEnd]), undefined, at('2026-12-25T00:00:00Z'))).toMatchObject({
        open: false,
        until: '2027-01-01T23:00:00.000Z',
      });
    });
  });

  it('an unknown window name is a non-retryable MaintenanceWindowUnknown naming it, even inside a freeze', () => {
    for (const instant of ['2026-06-01T00:00:00Z', '2026-12-25T00:00:00Z']) {
      let failure: unknown;
      try {
        evaluateWindow(calendar([sundayNight], [yearEnd]), 'saturday-night', at(instant));
      } catch (error) {
        failure = error;
      }
      expect(failure).toBeInstanceOf(ApplicationFailure);
      expect(failure).toMatchObject({ type: MaintenanceFailureType.windowUnknown, nonRetryable: true });
      expect((failure as ApplicationFailure).message).toBe(
        'maintenance window saturday-night is not in the calendar (it has sunday-night)',
      );
    }
  });
});
