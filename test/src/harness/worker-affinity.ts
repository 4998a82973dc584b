import type { temporal } from '@temporalio/proto';

/** Where one activity of a run was sent and which worker process ran it. */
export interface ActivityPlacement {
  activity: string;
  taskQueue: string;
  /** The identity of the worker that took the task (the SDK's default: pid@hostname). */
  identity: string;
}

/** Every activity the history shows as started, in order: its queue and the worker that ran it. */
export function activityPlacements(history: temporal.api.history.v1.IHistory): ActivityPlacement[] {
  const scheduled = new Map<string, { activity: string; taskQueue: string }>();
  const placements: ActivityPlacement[] = [];
  for (const event of history.events ?? []) {
    const s = event.activityTaskScheduledEventAttributes;
    if (s) scheduled.set(String(event.eventId), { activity: s.activityType?.name ?? '', taskQueue: s.taskQueue?.name ?? '' });
    const started = event.activityTaskStartedEventAttributes;
    const of = started && scheduled.get(String(started.scheduledEventId));
    if (started && of) placements.push({ ...of, identity: started.identity ?? '' });
  }
  return placements;
}

/** The activities a data restore must run on one machine. */
export const PINNED_RESTORE_ACTIVITIES = ['restoreToStaging', 'verifyRestoredContent', 'swapIntoTarget'];
