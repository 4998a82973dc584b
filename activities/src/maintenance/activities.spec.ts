import { ApplicationFailure } from '@temporalio/common';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createMaintenanceActivities } from './activities';
import { storeIn } from '../test-support/store';
import { CalendarStore } from './calendar-store';
import { MaintenanceFailureType } from '@runbooks/maintenance';

describe('checkMaintenanceWindow', () => {
  let dir: string;
  let store: CalendarStore;

  beforeEach(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'maintenance-'));
    store = new CalendarStore(storeIn(dir));
    await store.putWindow({ name: 'sunday-night', opens: '0 1 * * 0', timezone: 'Europe/Berlin', durationSeconds: 14_400 });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('evaluates the window of the stored calendar at the given instant', async () => {
    const { checkMaintenanceWindow } = createMaintenanceActivities(store);

    await expect(checkMaintenanceWindow({ window: 'sunday-night', at: '2026-01-11T02:00:00+01:00' })).resolves.toEqual({
      open: true,
      reason: 'maintenance window sunday-night is open until 2026-01-11T04:00:00.000Z',
      until: '2026-01-11T04:00:00.000Z',
    });
    await expect(checkMaintenanceWindow({ window: 'sunday-night', at: '2026-01-10T12:00:00Z' })).resolves.toMatchObject({ open: false });
  });

  it('obeys a freeze declared after the activities were created', async () => {
    const { checkMaintenanceWindow } = createMaintenanceActivities(store);
    await expect(checkMaintenanceWindow({ at: '2026-01-11T01:00:00Z' })).resolves.toMatchObject({ open: true });

    // Another process's calendar over the same store: the activities see its write.
    await new CalendarStore(storeIn(dir)).putFreeze({
      name: 'incident',
      periods: [{ from: '2026-01-11T00:00:00Z', to: '2026-01-11T06:00:00Z', reason: 'INC-7' }],
    });

    await expect(checkMaintenanceWindow({ window: 'sunday-night', at: '2026-01-11T01:00:00Z' })).resolves.toEqual({
      open: false,
      reason: 'change freeze incident (INC-7) until 2026-01-11T06:00:00.000Z',
      until: '2026-01-11T06:00:00.000Z',
    });
  });

  it('evaluates at the current time when no instant is given', async () => {
    await store.putWindow({ name: 'always', opens: '* * * * * *', timezone: 'UTC', durationSeconds: 2 });
    const before = Date.now();

    const verdict = await createMaintenanceActivities(store).checkMaintenanceWindow({ window: 'always' });

    expect(verdict.open).toBe(true);
    expect(Date.parse(verdict.until!)).toBeGreaterThan(before);
  });

  it('rejects an instant that is not ISO 8601 with offset, and an unknown window, as non-retryable', async () => {
    const { checkMaintenanceWindow } = createMaintenanceActivities(store);

    const badInstant = await checkMaintenanceWindow({ at: 'next sunday' }).catch((e: unknown) => e);
    const unknown = await checkMaintenanceWindow({ window: 'saturday-night' }).catch((e: unknown) => e);

    expect(badInstant).toBeInstanceOf(ApplicationFailure);
    expect(badInstant).toMatchObject({ type: MaintenanceFailureType.invalidInput, nonRetryable: true });
    expect((badInstant as Error).message).toContain('at:');
    expect(unknown).toMatchObject({ type: MaintenanceFailureType.windowUnknown, nonRetryable: true });
  });
});
