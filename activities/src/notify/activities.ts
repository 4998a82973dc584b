import type { RunbookActivities } from '../types';
import type { Notifier } from './webhook';

export type NotifyActivities = Pick<RunbookActivities, 'notify'>;

export function createNotifyActivities(notifier: Notifier): NotifyActivities {
  return {
    notify: (input) => notifier.send(input),
  };
}
