import {
  changeFreezeSchema,
  maintenanceCalendarSchema,
  maintenanceWindowSchema,
  type ChangeFreeze,
  type MaintenanceCalendar,
  type MaintenanceWindow,
} from '@runbooks/contracts';
import os from 'node:os';
import path from 'node:path';
import type { z } from 'zod';
import { CachedJsonFile } from '../files/cached-json-file';
import { calendarInvalid, type CalendarProblem } from './failures';
import { cronProblem } from './window-occurrences';

/** What `putWindow` accepts: a window as a client sends it (description may be left out). */
export type MaintenanceWindowInput = z.input<typeof maintenanceWindowSchema>;
/** What `putFreeze` accepts: a freeze as a client sends it (period reasons may be left out). */
export type ChangeFreezeInput = z.input<typeof changeFreezeSchema>;
/** A whole calendar as a client sends it. */
export type MaintenanceCalendarInput = z.input<typeof maintenanceCalendarSchema>;

/** Where the calendar is kept when nothing else is configured: `<tmp>/runbooks-calendar.json`. */
export function defaultCalendarFile(): string {
  return path.join(os.tmpdir(), 'runbooks-calendar.json');
}

/**
 * The maintenance calendar, a JSON file `{ "windows": [...], "freezes": [...] }`, validated on
 * every read and write: the contracts' schemas, plus unique names and cron expressions that
 * cron-parser reads. Reads are cached by file version (CachedJsonFile); writes replace the file
 * atomically, one at a time (a promise chain), each re-reading the file first, so concurrent puts
 * and deletes in one process all land. A missing file is an empty calendar.
 * Invalid content is a non-retryable MaintenanceCalendarInvalid naming each field's path.
 */
export class CalendarStore {
  private readonly json: CachedJsonFile<MaintenanceCalendar>;
  /** The tail of the chain of writes: each write starts when the one before it has finished. */
  private writes: Promise<unknown> = Promise.resolve();

  constructor(readonly file: string) {
    this.json = new CachedJsonFile(
      file,
      (json) => (json === undefined ? { windows: [], freezes: [] } : parseMaintenanceCalendar(json, `maintenance calendar ${file}`)),
      (message) => calendarInvalid(`maintenance calendar ${file}`, [{ path: '(root)', message }]),
    );
  }

  read(): Promise<MaintenanceCalendar> {
    return this.json.read();
  }

  /** Adds the window, or replaces the window of the same name; returns it as stored. */
  async putWindow(input: MaintenanceWindowInput): Promise<MaintenanceWindow> {
    const window = parseMaintenanceWindow(input);
    return this.update((calendar) => {
      const windows = replaceByName(calendar.windows, window);
      return { calendar: { ...calendar, windows }, result: window };
    });
  }

  /** Removes the window of that name; resolves whether there was one. */
  deleteWindow(name: string): Promise<boolean> {
    return this.update((calendar) => {
      const windows = calendar.windows.filter((w) => w.name !== name);
      const existed = windows.length !== calendar.windows.length;
      return { calendar: existed ? { ...calendar, windows } : undefined, result: existed };
    });
  }

  /** Adds the freeze, or replaces the freeze of the same name; returns it as stored. */
  async putFreeze(input: ChangeFreezeInput): Promise<ChangeFreeze> {
    const freeze = parseChangeFreeze(input);
    return this.update((calendar) => {
      const freezes = replaceByName(calendar.freezes, freeze);
      return { calendar: { ...calendar, freezes }, result: freeze };
    });
  }

  /** Removes the freeze of that name; resolves whether there was one. */
  deleteFreeze(name: string): Promise<boolean> {
    return this.update((calendar) => {
      const freezes = calendar.freezes.filter((f) => f.name !== name);
      const existed = freezes.length !== calendar.freezes.length;
      return { calendar: existed ? { ...calendar, freezes } : undefined, result: existed };
    });
  }

  /** Read, change and write under the write chain; `calendar: undefined` writes nothing. */
  private update<T>(change: (calendar: MaintenanceCalendar) => { calendar: MaintenanceCalendar | undefined; result: T }): Promise<T> {
    const write = this.writes.then(async () => {
      const { calendar, result } = change(await this.json.read());
      if (calendar) {
        const valid = parseMaintenanceCalendar(calendar, 'the new calendar');
        await this.json.write(valid, valid);
      }
      return result;
    });
    this.writes = write.catch(() => undefined); // a failed write does not stop the ones after it
    return write;
  }
}

/** Validates a whole calendar: schema, unique window and freeze names, readable cron expressions. */
export function parseMaintenanceCalendar(input: unknown, what = 'the maintenance calendar'): MaintenanceCalendar {
  const result = maintenanceCalendarSchema.safeParse(input);
  if (!result.success) throw calendarInvalid(what, zodProblems(result.error));
  const calendar = result.data;
  const problems = [
    ...duplicateNames(calendar.windows, 'windows', 'window'),
    ...duplicateNames(calendar.freezes, 'freezes', 'freeze'),
    ...calendar.windows.flatMap((w, i) => cronProblems(w, `windows.${i}.`)),
  ];
  if (problems.length) throw calendarInvalid(what, problems);
  return calendar;
}

/** Validates one window (the field paths are the window's own, e.g. `opens`). */
export function parseMaintenanceWindow(input: unknown, what = 'the maintenance window'): MaintenanceWindow {
  const result = maintenanceWindowSchema.safeParse(input);
  if (!result.success) throw calendarInvalid(what, zodProblems(result.error));
  const problems = cronProblems(result.data, '');
  if (problems.length) throw calendarInvalid(what, problems);
  return result.data;
}

/** Validates one change freeze (the field paths are the freeze's own, e.g. `periods.0.to`). */
export function parseChangeFreeze(input: unknown, what = 'the change freeze'): ChangeFreeze {
  const result = changeFreezeSchema.safeParse(input);
  if (!result.success) throw calendarInvalid(what, zodProblems(result.error));
  return result.data;
}

function zodProblems(error: z.ZodError): CalendarProblem[] {
  return error.issues.map((issue) => ({ path: issue.path.map(String).join('.') || '(root)', message: issue.message }));
}

function cronProblems(window: MaintenanceWindow, prefix: string): CalendarProblem[] {
  const problem = cronProblem(window.opens, window.timezone);
  return problem ? [{ path: `${prefix}opens`, message: problem }] : [];
}

function duplicateNames(items: { name: string }[], field: string, kind: string): CalendarProblem[] {
  const seen = new Set<string>();
  const problems: CalendarProblem[] = [];
  items.forEach((item, i) => {
    if (seen.has(item.name)) problems.push({ path: `${field}.${i}.name`, message: `duplicate ${kind} name ${item.name}` });
    seen.add(item.name);
  });
  return problems;
}

function replaceByName<T extends { name: string }>(items: T[], item: T): T[] {
  const index = items.findIndex((i) => i.name === item.name);
  return index === -1 ? [...items, item] : items.map((existing, i) => (i === index ? item : existing));
}
