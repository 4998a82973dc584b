import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import type { RunbookActivities } from '../types';
import type { CalendarStore } from './calendar-store';
import { MaintenanceFailureType, evaluateWindow } from '@runbooks/maintenance';

/** The maintenance part of RunbookActivities. */
export type MaintenanceActivities = Pick<RunbookActivities, 'checkMaintenanceWindow'>;

const inputSchema = z.object({
  window: z.string().min(1).optional(),
  at: z.iso.datetime({ offset: true }).optional(),
});

/** checkMaintenanceWindow over the calendar in `calendar` (re-read on every call when the file changed). */
export function createMaintenanceActivities(calendar: CalendarStore): MaintenanceActivities {
  return {
    async checkMaintenanceWindow(input) {
      const result = inputSchema.safeParse(input);
      if (!result.success) {
        const problems = result.error.issues.map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`);
        throw ApplicationFailure.nonRetryable(`invalid input: ${problems.join('; ')}`, MaintenanceFailureType.invalidInput);
      }
      const { window, at } = result.data;
      return evaluateWindow(await calendar.read(), window, at === undefined ? new Date() : new Date(at));
    },
  };
}
