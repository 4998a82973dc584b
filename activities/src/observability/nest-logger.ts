import type { Logger } from 'pino';

/**
 * Nest's LoggerService (structurally: Nest is not a dependency here) writing through the service
 * logger, so Nest's own lines are JSON like the rest; Nest passes the context name last.
 */
export function nestLoggerFor(logger: Logger) {
  const write =
    (level: 'info' | 'error' | 'warn' | 'debug' | 'trace' | 'fatal') =>
    (message: unknown, ...params: unknown[]) => {
      const context = typeof params.at(-1) === 'string' ? (params.pop() as string) : undefined;
      const fields: Record<string, unknown> = context ? { context } : {};
      if (level === 'error' && typeof params[0] === 'string') fields.stack = params[0];
      if (message instanceof Error) logger[level]({ ...fields, err: message }, message.message);
      else if (typeof message === 'object' && message !== null) logger[level]({ ...fields, ...message });
      else logger[level](fields, String(message));
    };
  return {
    log: write('info'),
    error: write('error'),
    warn: write('warn'),
    debug: write('debug'),
    verbose: write('trace'),
    fatal: write('fatal'),
  };
}
