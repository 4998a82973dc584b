import { ApplicationFailure } from '@temporalio/common';
import type { Store } from '@runbooks/store';
import { StaleVersionError } from '@runbooks/store';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { storeIn } from '../test-support/store';
import { CalendarStore, type ChangeFreezeInput, type MaintenanceWindowInput } from './calendar-store';
import { MaintenanceFailureType } from '@runbooks/maintenance';

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApplicationFailure);
  return error as ApplicationFailure;
}

const sundayNight: MaintenanceWindowInput = {
  name: 'sunday-night',
  opens: '0 1 * * 0',
  timezone: 'Europe/Berlin',
  durationSeconds: 14_400,
};
const yearEnd: ChangeFreezeInput = {
  name: 'year-end',
  periods: [{ from: '2026-12-24T00:00:00+01:00', to: '2027-01-02T00:00:00+01:00', reason: 'holidays' }],
};

describe('CalendarStore', () => {
  let dir: string;
  let file: string;
  let db: Store;

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'calendar-'));
    file = path.join(dir, 'calendar.json');
    db = storeIn(dir);
  });
  afterEach(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('round-trips windows and freezes through the store, with defaults filled in', async () => {
    const store = new CalendarStore(db);
    await store.putWindow(sundayNight);
    await store.putFreeze({ name: 'release', periods: [{ from: '2026-06-01T00:00:00Z', to: '2026-06-02T00:00:00Z' }] });

    const reread = await new CalendarStore(db).read();

    expect(reread).toEqual({
      windows: [{ ...sundayNight, description: '' }],
      freezes: [{ name: 'release', periods: [{ from: '2026-06-01T00:00:00Z', to: '2026-06-02T00:00:00Z', reason: '' }] }],
    });
  });

  it('reads an empty store, and a missing file of the old layout, as an empty calendar', async () => {
    await expect(new CalendarStore(db, path.join(dir, 'nowhere', 'calendar.json')).read()).resolves.toEqual({ windows: [], freezes: [] });
  });

  it('imports the calendar file of the old layout once', async () => {
    writeFileSync(file, JSON.stringify({ windows: [sundayNight], freezes: [yearEnd] }));
    expect((await new CalendarStore(db, file).read()).windows.map((w) => w.name)).toEqual(['sunday-night']);
    writeFileSync(file, JSON.stringify({ windows: [], freezes: [] }));
    expect(await new CalendarStore(db, file).read()).toMatchObject({
      windows: [{ name: 'sunday-night' }],
      freezes: [{ name: 'year-end' }],
    });
  });

  it('writes only from the version the writer read (If-Match): a stale write is refused and changes nothing', async () => {
    const store = new CalendarStore(db);
    const { version } = await store.putWindowVersioned(sundayNight);
    await new CalendarStore(db).putFreeze(yearEnd, version);

    await expect(store.putWindow({ ...sundayNight, durationSeconds: 60 }, version)).rejects.toThrow(StaleVersionError);
    await expect(store.deleteFreeze('year-end', version)).rejects.toThrow(StaleVersionError);
    const now = await store.readVersioned();
    expect(now.version).toBe(version + 1);
    expect(now.value.windows[0].durationSeconds).toBe(14_400);
    expect(now.value.freezes).toHaveLength(1);
  });

  it('put replaces the window or freeze of the same name, in place', async () => {
    const store = new CalendarStore(db);
    await store.putWindow(sundayNight);
    await store.putWindow({ name: 'tick', opens: '*/10 * * * * *', timezone: 'UTC', durationSeconds: 5 });
    await store.putFreeze(yearEnd);

    await store.putWindow({ ...sundayNight, durationSeconds: 3600, description: 'shorter' });
    await store.putFreeze({ ...yearEnd, periods: [{ from: '2026-12-20T00:00:00Z', to: '2026-12-21T00:00:00Z', reason: 'moved' }] });

    const calendar = await new CalendarStore(db).read();
    expect(calendar.windows.map((w) => [w.name, w.durationSeconds, w.description])).toEqual([
      ['sunday-night', 3600, 'shorter'],
      ['tick', 5, ''],
    ]);
    expect(calendar.freezes).toEqual([
      { name: 'year-end', periods: [{ from: '2026-12-20T00:00:00Z', to: '2026-12-21T00:00:00Z', reason: 'moved' }] },
    ]);
  });

  it('delete removes by name and says whether there was one', async () => {
    const store = new CalendarStore(db);
    await store.putWindow(sundayNight);
    await store.putFreeze(yearEnd);

    await expect(store.deleteWindow('sunday-night')).resolves.toBe(true);
    await expect(store.deleteWindow('sunday-night')).resolves.toBe(false);
    await expect(store.deleteFreeze('year-end')).resolves.toBe(true);
    await expect(store.deleteFreeze('no-such-freeze')).resolves.toBe(false);
    await expect(new CalendarStore(db).read()).resolves.toEqual({ windows: [], freezes: [] });
  });

  it('rejects an invalid window or freeze with the field path, and keeps the calendar as it was', async () => {
    const store = new CalendarStore(db);
    await store.putWindow(sundayNight);
    const before = await store.readVersioned();

    const badZone = await failureOf(store.putWindow({ ...sundayNight, timezone: 'Europe/Atlantis' }));
    const badCron = await failureOf(store.putWindow({ ...sundayNight, opens: '0 25 * * 0' }));
    const sevenFields = await failureOf(store.putWindow({ ...sundayNight, opens: '0 0 1 * * 0 2026' }));
    const backwards = await failureOf(
      store.putFreeze({ name: 'year-end', periods: [{ from: '2027-01-02T00:00:00Z', to: '2026-12-24T00:00:00Z' }] }),
    );

    expect(badZone).toMatchObject({ type: MaintenanceFailureType.calendarInvalid, nonRetryable: true });
    expect(badZone.message).toContain('timezone: must be an IANA time zone');
    expect(badCron.message).toMatch(/^the maintenance window is invalid: opens: is not a valid cron expression: .*25/);
    expect(sevenFields.message).toContain('opens: must have 5 fields');
    expect(backwards.message).toContain('periods.0.to: to must be after from');
    expect(backwards.details?.[0]).toMatchObject({ problems: [{ path: 'periods.0.to', message: 'to must be after from' }], total: 1 });
    expect(await store.readVersioned()).toEqual(before);
  });

  it('rejects a calendar file of the old layout with invalid content, naming the field path in the file', async () => {
    writeFileSync(
      file,
      JSON.stringify({
        windows: [
          { ...sundayNight, durationSeconds: 0 },
          { ...sundayNight, opens: 'every sunday' },
        ],
      }),
    );
    const failure = await failureOf(new CalendarStore(db, file).read());
    expect(failure.type).toBe(MaintenanceFailureType.calendarInvalid);
    expect(failure.message).toContain(`maintenance calendar ${file} is invalid: windows.0.durationSeconds:`);

    writeFileSync(file, JSON.stringify({ windows: [sundayNight, { ...sundayNight, opens: '0 2 * * 0' }], freezes: [] }));
    expect((await failureOf(new CalendarStore(db, file).read())).message).toContain('windows.1.name: duplicate window name sunday-night');

    writeFileSync(file, JSON.stringify({ windows: [{ ...sundayNight, opens: '0 1 * * 0 extra junk' }] }));
    expect((await failureOf(new CalendarStore(db, file).read())).message).toContain('windows.0.opens: must have 5 fields');

    writeFileSync(file, '{ "windows": [');
    expect((await failureOf(new CalendarStore(db, file).read())).message).toContain('(root): not valid JSON');
  });

  it('sees changes another writer (another process, its own connection) made to the store', async () => {
    const store = new CalendarStore(db);
    await expect(store.read()).resolves.toEqual({ windows: [], freezes: [] });

    const other = storeIn(dir);
    await new CalendarStore(other).putWindow(sundayNight);
    await other.close();

    expect((await store.read()).windows.map((w) => w.name)).toEqual(['sunday-night']);
  });

  it('concurrent puts and deletes in one process all land', async () => {
    const store = new CalendarStore(db);
    const names = Array.from({ length: 30 }, (_, i) => `w-${i}`);

    await Promise.all([
      ...names.map((name) => store.putWindow({ ...sundayNight, name })),
      ...names.map((name) => store.putFreeze({ ...yearEnd, name: `f-${name}` })),
    ]);
    await Promise.all(names.filter((_, i) => i % 2 === 0).map((name) => store.deleteWindow(name)));

    const calendar = await new CalendarStore(db).read();
    expect(calendar.windows.map((w) => w.name).sort()).toEqual(names.filter((_, i) => i % 2 === 1).sort());
    expect(calendar.freezes).toHaveLength(30);
  });

  it('a rejected write does not stop the writes queued after it', async () => {
    const store = new CalendarStore(db);

    const results = await Promise.allSettled([
      store.putWindow(sundayNight),
      store.putWindow({ ...sundayNight, name: 'Bad Name' }),
      store.putWindow({ ...sundayNight, name: 'after' }),
    ]);

    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((await store.read()).windows.map((w) => w.name).sort()).toEqual(['after', 'sunday-night']);
  });
});
