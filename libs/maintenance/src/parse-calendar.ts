import {
  changeFreezeSchema,
  maintenanceCalendarSchema,
  maintenanceWindowSchema,
  type ChangeFreeze,
  type MaintenanceCalendar,
  type MaintenanceWindow,
} from '@runbooks/contracts';
import type { z } from 'zod';
import { calendarInvalid, type CalendarProblem } from './failures';
import { cronProblem } from './window-occurrences';

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
