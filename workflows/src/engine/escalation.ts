import { ApplicationFailure, log } from '@temporalio/workflow';
import type { NotifyInput, NotifyResult } from '@runbooks/activities';
import { describeError } from './activities';

/** What gates and tasks need from the run: a status refresh and the notifier. */
export interface WaitHooks {
  /** The status and search attributes may have changed: upserts them and refreshes the store's copy. */
  onChange(): void;
  /** Only the run state changed (no search attribute can have): refreshes the store's copy, no command. */
  onRecord(): void;
  notify(input: NotifyInput): Promise<NotifyResult>;
}

/**
 * Tells the next tier that a wait passed to them. The escalation is recorded either way: a
 * notifier outage must not decide a gate or hold a task.
 */
export async function sendEscalationNotice(hooks: WaitHooks, notice: NotifyInput, what: string): Promise<void> {
  try {
    await hooks.notify(notice);
  } catch (error) {
    log.error('escalation notice could not be delivered', { what, error: describeError(error) });
  }
}

/** An Update refused by its validator: nothing enters history; the API maps the type to 4xx. */
export function refusal(type: string, message: string, details?: unknown): ApplicationFailure {
  return ApplicationFailure.create({ type, message, details: details === undefined ? undefined : [details] });
}
