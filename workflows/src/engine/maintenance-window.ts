import { CancellationScope, isCancellation, log, sleep } from '@temporalio/workflow';
import type { WindowVerdict } from '@runbooks/contracts';
import { describeError, stepActivities } from './activities';

export interface WindowGuardOptions {
  /** The named window; undefined: only change freezes apply. */
  window?: string;
  recheckMs: number;
  /** Set by an admin override: the guard never holds the run. */
  overridden: boolean;
  /** Told each time the verdict is read: closed (with why) or open. */
  onVerdict(closed: boolean, reason?: string): void;
}

/**
 * Keeps a run inside its maintenance window and out of change freezes. `waitUntilOpen` holds a
 * run before it starts; `watch` re-reads the calendar while a rollout runs (at the next window or
 * freeze boundary, and at least every recheck) so the rollout pauses between hosts when the
 * window closes or a freeze begins, and goes on when it reopens.
 */
export class WindowGuard {
  private readonly calendar = stepActivities(
    { startToCloseTimeout: '30 seconds', retry: { maximumAttempts: 5 } },
    { attempted: () => undefined },
  );

  constructor(private readonly options: WindowGuardOptions) {}

  async waitUntilOpen(): Promise<void> {
    if (this.options.overridden) return;
    for (;;) {
      const verdict = await this.read();
      this.options.onVerdict(!verdict.open, verdict.reason);
      if (verdict.open) return;
      await sleep(this.nap(verdict));
    }
  }

  /** Starts watching; the returned function stops it. */
  watch(): () => void {
    if (this.options.overridden) return () => undefined;
    const scope = new CancellationScope();
    void scope
      .run(async () => {
        for (;;) {
          const verdict = await this.read();
          this.options.onVerdict(!verdict.open, verdict.reason);
          await sleep(this.nap(verdict));
        }
      })
      .catch((error) => {
        if (!isCancellation(error)) log.error('maintenance window watch ended', { error: describeError(error) });
      });
    return () => scope.cancel();
  }

  private async read(): Promise<WindowVerdict> {
    try {
      return await this.calendar.checkMaintenanceWindow({ window: this.options.window, at: new Date().toISOString() });
    } catch (error) {
      if (isCancellation(error)) throw error;
      // A calendar that cannot be read must not let changes through: hold, say why, try again.
      return { open: false, reason: `the maintenance calendar cannot be read: ${describeError(error)}` };
    }
  }

  private nap(verdict: WindowVerdict): number {
    const untilMs = verdict.until ? Date.parse(verdict.until) - Date.now() : Infinity;
    return Math.max(100, Math.min(untilMs, this.options.recheckMs));
  }
}
