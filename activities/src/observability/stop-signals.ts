/**
 * Stops the process on SIGTERM or SIGINT: `close` runs once (the app closes, then whatever must be
 * flushed, such as the spans the tracing still buffers), then the process exits, 0 when all closed.
 * Not Nest's shutdown hooks: they re-raise the signal as soon as the app is closed, which killed the
 * process before the tracing's last export (and `beforeExit` never comes on a signal).
 */
export function closeOnStopSignals(close: (signal: NodeJS.Signals) => Promise<void>): void {
  let closing = false;
  const stop = (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    close(signal).then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(`could not close cleanly on ${signal}:`, error);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
