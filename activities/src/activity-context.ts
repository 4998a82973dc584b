import { Context } from '@temporalio/activity';

/** Often enough for any heartbeat timeout a workflow would set; the SDK throttles what it sends. */
const HEARTBEAT_INTERVAL_MS = 2_000;

/** The running activity's context, or undefined when called directly (unit tests, scripts). */
export function currentActivity(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

/**
 * Runs `work` while heartbeating, so the server neither takes a long restic run for a dead
 * worker nor loses the chance to deliver a cancellation. `work` receives the activity's
 * cancellation signal (undefined outside an activity) to stop its child processes.
 *
 * With `delayFirstBeat`, the first beat waits one interval: most host actions end within it, and
 * a beat sent at once costs every one of them a server call. The interval is then at most half
 * the activity's heartbeat timeout, so a live worker always beats in time and a lost one is
 * still found out by that timeout.
 */
export async function withHeartbeat<T>(
  progress: () => unknown,
  work: (signal: AbortSignal | undefined) => Promise<T>,
  { delayFirstBeat = false }: { delayFirstBeat?: boolean } = {},
): Promise<T> {
  const activity = currentActivity();
  if (!activity) return work(undefined);
  const timeoutMs = activity.info.heartbeatTimeoutMs;
  const everyMs = delayFirstBeat && timeoutMs ? Math.min(HEARTBEAT_INTERVAL_MS, timeoutMs / 2) : HEARTBEAT_INTERVAL_MS;
  if (!delayFirstBeat) activity.heartbeat(progress());
  latestProgress.set(activity, progress);
  // The worker's keepAlive beats as often already, with this progress: one timer per activity is enough.
  if (keptAlive.has(activity) && everyMs >= HEARTBEAT_INTERVAL_MS) return work(activity.cancellationSignal);
  const timer = setInterval(() => activity.heartbeat(progress()), everyMs);
  try {
    return await work(activity.cancellationSignal);
  } finally {
    clearInterval(timer);
  }
}

/** What the activity last said about its progress, so a keep-alive beat repeats it rather than erase it. */
const latestProgress = new WeakMap<Context, () => unknown>();
/** Activities keepAlive is beating for. */
const keptAlive = new WeakSet<Context>();

/**
 * Heartbeats for as long as `work` runs, whatever it is: the worker wraps every activity in it,
 * so a short heartbeat timeout tells the server of a lost worker within seconds for every step,
 * and every activity can be told it was cancelled. The first beat comes after one interval:
 * an activity done before then costs no heartbeat call.
 */
export async function keepAlive<T>(work: () => Promise<T>): Promise<T> {
  const activity = currentActivity();
  // A local activity has no heartbeat timeout: the workflow task that runs it watches it.
  if (!activity || activity.info.isLocal) return work();
  const timer = setInterval(() => activity.heartbeat(latestProgress.get(activity)?.()), HEARTBEAT_INTERVAL_MS);
  keptAlive.add(activity);
  try {
    return await work();
  } finally {
    clearInterval(timer);
    keptAlive.delete(activity);
  }
}
