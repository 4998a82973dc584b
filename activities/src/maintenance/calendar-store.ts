import {
  type ChangeFreeze,
  type MaintenanceCalendar,
  type MaintenanceWindow,
  type changeFreezeSchema,
  type maintenanceCalendarSchema,
  type maintenanceWindowSchema,
} from '@runbooks/contracts';
import type { CalendarKind, Store } from '@runbooks/store';
import type { z } from 'zod';
import { LegacyJsonImport } from '../files/legacy-json-import';
import { calendarInvalid, parseChangeFreeze, parseMaintenanceCalendar, parseMaintenanceWindow } from '@runbooks/maintenance';

/** What `putWindow` accepts: a window as a client sends it (description may be left out). */
export type MaintenanceWindowInput = z.input<typeof maintenanceWindowSchema>;
/** What `putFreeze` accepts: a freeze as a client sends it (period reasons may be left out). */
export type ChangeFreezeInput = z.input<typeof changeFreezeSchema>;
/** A whole calendar as a client sends it. */
export type MaintenanceCalendarInput = z.input<typeof maintenanceCalendarSchema>;

/** A value with the calendar version it was read at or written as (the API's ETag). */
export interface Versioned<T> {
  value: T;
  version: number;
  /** When the calendar last changed; null when it never was written. */
  updatedAt: string | null;
}

/**
 * The maintenance calendar in the store: one row per window and per freeze, by unique name,
 * validated on every read and write (the contracts' schemas, readable cron expressions). Each
 * write moves the calendar to a new version in the same transaction, so concurrent puts and
 * deletes from any number of processes all land; a write given `expectedVersion` (If-Match)
 * fails with StaleVersionError when the calendar moved on. Invalid stored content is a
 * non-retryable MaintenanceCalendarInvalid naming each field's path.
 */
export class CalendarStore {
  private readonly legacy: LegacyJsonImport<MaintenanceCalendar>;

  /** `legacyFile`: today's `calendar.json`, imported into the store once, on first use. */
  constructor(
    private readonly store: Store,
    legacyFile?: string,
  ) {
    this.legacy = new LegacyJsonImport(store, legacyFile, {
      kind: 'maintenance calendar',
      parse: parseMaintenanceCalendar,
      notJson: (what, message) => calendarInvalid(what, [{ path: '(root)', message }]),
      write: async (calendar, trx) => {
        for (const w of calendar.windows) await store.calendar.put('window', w.name, JSON.stringify(w), undefined, trx);
        for (const f of calendar.freezes) await store.calendar.put('freeze', f.name, JSON.stringify(f), undefined, trx);
      },
    });
  }

  async read(): Promise<MaintenanceCalendar> {
    return (await this.readVersioned()).value;
  }

  async readVersioned(): Promise<Versioned<MaintenanceCalendar>> {
    await this.legacy.run();
    const { windows, freezes, version, updatedAt } = await this.store.calendar.read();
    const parse = (text: string) => {
      try {
        return JSON.parse(text) as unknown;
      } catch (error) {
        throw calendarInvalid('the stored maintenance calendar', [
          { path: '(root)', message: `not valid JSON: ${(error as Error).message}` },
        ]);
      }
    };
    const calendar = parseMaintenanceCalendar(
      { windows: windows.map(parse), freezes: freezes.map(parse) },
      'the stored maintenance calendar',
    );
    return { value: calendar, version, updatedAt };
  }

  /** Adds the window, or replaces the window of the same name; returns it as stored. */
  async putWindow(input: MaintenanceWindowInput, expectedVersion?: number): Promise<MaintenanceWindow> {
    return (await this.putWindowVersioned(input, expectedVersion)).value;
  }

  async putWindowVersioned(input: MaintenanceWindowInput, expectedVersion?: number): Promise<Versioned<MaintenanceWindow>> {
    const window = parseMaintenanceWindow(input);
    await this.legacy.run();
    const version = await this.store.calendar.put('window', window.name, JSON.stringify(window), expectedVersion);
    return { value: window, ...version };
  }

  /** Removes the window of that name; resolves whether there was one. */
  async deleteWindow(name: string, expectedVersion?: number): Promise<boolean> {
    return (await this.deleteVersioned('window', name, expectedVersion)).value;
  }

  /** Adds the freeze, or replaces the freeze of the same name; returns it as stored. */
  async putFreeze(input: ChangeFreezeInput, expectedVersion?: number): Promise<ChangeFreeze> {
    return (await this.putFreezeVersioned(input, expectedVersion)).value;
  }

  async putFreezeVersioned(input: ChangeFreezeInput, expectedVersion?: number): Promise<Versioned<ChangeFreeze>> {
    const freeze = parseChangeFreeze(input);
    await this.legacy.run();
    const version = await this.store.calendar.put('freeze', freeze.name, JSON.stringify(freeze), expectedVersion);
    return { value: freeze, ...version };
  }

  /** Removes the freeze of that name; resolves whether there was one. */
  async deleteFreeze(name: string, expectedVersion?: number): Promise<boolean> {
    return (await this.deleteVersioned('freeze', name, expectedVersion)).value;
  }

  async deleteVersioned(kind: CalendarKind, name: string, expectedVersion?: number): Promise<Versioned<boolean>> {
    await this.legacy.run();
    const { existed, ...version } = await this.store.calendar.remove(kind, name, expectedVersion);
    return { value: existed, ...version };
  }
}
