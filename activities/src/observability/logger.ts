import type { LogLevel, LogMetadata, Logger as TemporalLogger } from '@temporalio/common';
import pino, { type DestinationStream, type Logger } from 'pino';

/** Field names whose values the logger censors, whatever they hold (a secret reference `secret:name` is harmless, but is censored too). */
const SECRET_FIELDS = ['password', 'token', 'secret', 'authorization', 'apiKey', 'key', 'keys', 'cookie'];

/**
 * Where secrets could appear in a log line's fields: the logger replaces them, whoever logged them.
 * A secret field at the top level, or one or two objects down (an error's details, a request's
 * headers). pino's redaction has no recursive wildcard, and each path costs every line a check.
 */
export const REDACTED_PATHS = SECRET_FIELDS.flatMap((name) => [name, `*.${name}`, `*.*.${name}`]);

export interface ServiceLoggerOptions {
  /** `api` or `worker`: every line carries it as `service`. */
  service: string;
  level?: string;
  /** Where lines go; default stdout, pretty-printed when stdout is a terminal. */
  destination?: DestinationStream;
}

/**
 * The service's one logger: JSON lines (time, level, service, msg and the fields a line knows: runId,
 * runbook, step, principal), secrets censored by pino's own redaction; human-readable on a terminal.
 */
export function createServiceLogger(options: ServiceLoggerOptions): Logger {
  const settings = {
    level: options.level ?? process.env.RUNBOOKS_LOG_LEVEL ?? 'info',
    base: { service: options.service },
    redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    // The SDK puts failures under `error`: an Error would otherwise serialize as {}.
    serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
  };
  if (options.destination) return pino(settings, options.destination);
  if (process.stdout.isTTY) {
    return pino({ ...settings, transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l' } } });
  }
  return pino(settings);
}

/** The SDK's line as an activity starts (its worker logger, at debug). */
const ACTIVITY_STARTED = 'Activity started';
/** The field that tells TemporalLogAdapter the line comes from logActivityStarted; never written out. */
const CONTEXT_READ = 'runContextRead';

/**
 * Logs the SDK's "Activity started" line again, from an activity interceptor that has read the
 * run's context from the task's header (apps/worker/src/observability.ts): the SDK logs it before
 * any interceptor sees the header, so its own line could not name the run's principal, and
 * TemporalLogAdapter leaves it out. `log` is the activity's context logger.
 */
export function logActivityStarted(log: TemporalLogger): void {
  log.debug(ACTIVITY_STARTED, { sdkComponent: 'worker', [CONTEXT_READ]: true });
}

/**
 * The Temporal SDK's logs (Runtime.install's logger: the worker, its workflows' and activities'
 * `log`) through the service logger, with the SDK's workflow and activity fields renamed to ours.
 * The SDK's own "Activity started" is replaced by logActivityStarted's.
 */
export class TemporalLogAdapter implements TemporalLogger {
  constructor(
    private readonly logger: Logger,
    private readonly runbookOf: (workflowType: string | undefined) => string | undefined = (t) => t,
  ) {}

  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    if (message === ACTIVITY_STARTED && meta?.sdkComponent === 'worker' && meta[CONTEXT_READ] !== true) return;
    const method = PINO_LEVEL[level] ?? 'info';
    this.logger[method](this.fields(meta), message);
  }
  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }

  private fields(meta: LogMetadata | undefined): Record<string, unknown> {
    if (!meta) return {};
    // The SDK's runId is Temporal's execution id; ours is the workflow id (the run id the API shows).
    const { workflowId, workflowType, activityType, runId: temporalRunId, runbook, ...rest } = meta as Record<string, unknown>;
    delete rest[CONTEXT_READ];
    return {
      ...rest,
      ...(temporalRunId === undefined ? {} : { temporalRunId }),
      ...(typeof workflowId === 'string' ? { runId: workflowId } : {}),
      // The run's own word wins (a fleet batch names its campaign's runbook); else the catalog's name of its type.
      ...(typeof runbook === 'string' ? { runbook } : typeof workflowType === 'string' ? { runbook: this.runbookOf(workflowType) } : {}),
      ...(typeof workflowType === 'string' ? { workflowType } : {}),
      ...(typeof activityType === 'string' ? { step: activityType } : {}),
    };
  }
}

const PINO_LEVEL: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};
