/** The one task queue every runbook workflow and activity is served on. */
export const RUNBOOK_TASK_QUEUE = 'runbooks';
