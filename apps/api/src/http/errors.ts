import { Catch, HttpException, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import {
  ApplicationFailure,
  NamespaceNotFoundError,
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  isGrpcServiceError,
} from '@temporalio/client';
import { RejectionType } from '@runbooks/contracts';
import type { Request, Response } from 'express';
import { STATUS_CODES } from 'node:http';
import { z } from 'zod';
import { auditEntryOf } from '../audit/audit-entry';
import { requestLogFields } from '../observability';

export const issueSchema = z.object({
  path: z.string().meta({ description: 'The field, dotted from the part of the request it is in, e.g. input.repository.passwordRef' }),
  message: z.string(),
});
export type Issue = z.infer<typeof issueSchema>;

/** Every 4xx and 5xx answer has this shape. */
export const errorBodySchema = z.object({
  statusCode: z.number().int(),
  error: z.string(),
  message: z.string(),
  issues: z.array(issueSchema).optional(),
});
export type ErrorBody = z.infer<typeof errorBodySchema>;

/** A request part did not match its schema. */
export class RequestValidationError extends Error {
  readonly issues: Issue[];
  constructor(
    readonly where: string,
    zodIssues: readonly { path: readonly PropertyKey[]; message: string; code?: string; keys?: readonly string[] }[],
  ) {
    // An unknown field is named itself (input.befor), not the object that holds it.
    const issues = zodIssues.flatMap((i) =>
      i.code === 'unrecognized_keys' && i.keys
        ? i.keys.map((key) => ({ path: formatPath([...i.path, key]), message: `unknown field ${key}` }))
        : [{ path: formatPath(i.path), message: i.message }],
    );
    super(`Invalid ${where}: ${issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ')}`);
    this.issues = issues;
  }
}

/** The caller may not set a field (e.g. input.windowOverride without the admin role): a 403 naming it. */
export class FieldForbiddenError extends Error {
  readonly issues: Issue[];
  constructor(path: readonly PropertyKey[], reason: string) {
    const field = formatPath(path);
    super(`${field}: ${reason}`);
    this.issues = [{ path: field, message: reason }];
  }
}

/** The worker did not answer an update or query in time (none running, or overloaded). */
export class WorkerNotAnsweringError extends Error {}

/** The Temporal server could not be reached or did not answer in time. */
export class TemporalUnavailableError extends Error {}

/** gRPC status codes we act on (numbering from the gRPC spec). */
export const GrpcStatus = { CANCELLED: 1, INVALID_ARGUMENT: 3, DEADLINE_EXCEEDED: 4, NOT_FOUND: 5, UNAVAILABLE: 14 } as const;

/** The gRPC status code anywhere in an error's cause chain. */
export function grpcCode(error: unknown): number | undefined {
  for (let e = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (isGrpcServiceError(e)) return e.code;
  }
  return undefined;
}

const REJECTION_STATUS: Record<string, number> = {
  [RejectionType.forbidden]: 403,
  [RejectionType.conflict]: 409,
  [RejectionType.notFound]: 404,
};

/**
 * Turns every error into the one JSON error shape: what the user got wrong is a 4xx naming it,
 * an unreachable Temporal or a silent worker is a 503, and only our own bugs are a 500.
 */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('ApiExceptionFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const response = http.getResponse<Response>();
    const request = http.getRequest<Request>();
    const { status, message, issues, headers } = this.describe(exception, request);
    if (status >= 500) {
      const detail = exception instanceof Error ? (exception.stack ?? exception.message) : String(exception);
      const about = requestLogFields(request);
      if (status === 500) this.logger.error({ msg: `${request.method} ${request.originalUrl} failed: ${detail}`, ...about });
      else this.logger.warn({ msg: `${request.method} ${request.originalUrl}: ${status} ${message}`, ...about });
    }
    const body: ErrorBody = { statusCode: status, error: STATUS_CODES[status] ?? 'Error', message };
    if (issues) body.issues = issues;
    const answer = () => {
      if (response.headersSent) return;
      for (const [name, value] of Object.entries(headers ?? {})) response.setHeader(name, value);
      response.status(status).json(body);
    };
    // A write the guards let through is audited as refused, with the answer its caller gets, before that answer goes.
    const audit = auditEntryOf(request);
    if (audit) {
      audit
        .refused(status, message)
        .then(answer)
        .catch((error: unknown) =>
          this.logger.error(`could not answer ${request.method} ${request.originalUrl}: ${(error as Error).message}`),
        );
    } else answer();
  }

  private describe(
    exception: unknown,
    request: Request,
  ): { status: number; message: string; issues?: Issue[]; headers?: Record<string, string> } {
    if (exception instanceof RequestValidationError) {
      return { status: 400, message: exception.message, issues: exception.issues };
    }
    if (exception instanceof FieldForbiddenError) {
      return { status: 403, message: exception.message, issues: exception.issues };
    }
    if (exception instanceof z.ZodError) {
      const error = new RequestValidationError('request', exception.issues);
      return { status: 400, message: error.message, issues: error.issues };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const body = exception.getResponse();
      const raw = typeof body === 'string' ? body : (body as { message?: unknown }).message;
      const message = Array.isArray(raw) ? raw.join('; ') : typeof raw === 'string' ? raw : exception.message;
      return { status, message, headers: status === 401 ? { 'WWW-Authenticate': 'Bearer realm="runbooks"' } : undefined };
    }
    if (exception instanceof WorkflowNotFoundError) {
      const runId = exception.workflowId || (request.params as Record<string, string> | undefined)?.id;
      return { status: 404, message: runId ? `run ${runId} not found` : 'run not found' };
    }
    if (exception instanceof ScheduleNotFoundError) {
      const id = exception.scheduleId || (request.params as Record<string, string> | undefined)?.id;
      return { status: 404, message: id ? `schedule ${id} not found` : 'schedule not found' };
    }
    if (exception instanceof ScheduleAlreadyRunning) {
      return { status: 409, message: `schedule ${exception.scheduleId} already exists` };
    }
    if (exception instanceof WorkflowUpdateFailedError) {
      const cause = exception.cause;
      if (cause instanceof ApplicationFailure && cause.type && REJECTION_STATUS[cause.type]) {
        return { status: REJECTION_STATUS[cause.type], message: cause.message };
      }
      // The run refused the request for a reason of its own; that is about the request, not our bug.
      return { status: 422, message: `the run refused the request: ${cause?.message ?? exception.message}` };
    }
    if (exception instanceof WorkflowUpdateRPCTimeoutOrCancelledError || exception instanceof WorkerNotAnsweringError) {
      return {
        status: 503,
        message:
          exception instanceof WorkerNotAnsweringError
            ? exception.message
            : 'the runbook worker is not answering; try again when a worker is running',
        headers: { 'Retry-After': '5' },
      };
    }
    if (exception instanceof TemporalUnavailableError) {
      return { status: 503, message: exception.message, headers: { 'Retry-After': '5' } };
    }
    if (exception instanceof NamespaceNotFoundError) {
      return { status: 503, message: `the Temporal namespace ${exception.namespace} does not exist` };
    }
    const code = grpcCode(exception);
    if (code === GrpcStatus.UNAVAILABLE || code === GrpcStatus.DEADLINE_EXCEEDED) {
      return { status: 503, message: 'the Temporal server is unreachable or not answering', headers: { 'Retry-After': '5' } };
    }
    // Errors of the body parser (malformed JSON, too large) carry their own 4xx status.
    const parserError = exception as { status?: unknown; expose?: unknown; type?: unknown; message?: string };
    if (typeof parserError.status === 'number' && parserError.status >= 400 && parserError.status < 500 && parserError.expose) {
      const message =
        parserError.type === 'entity.parse.failed' ? 'the request body is not valid JSON' : (parserError.message ?? 'bad request');
      return { status: parserError.status, message };
    }
    return { status: 500, message: 'internal error; it has been logged' };
  }
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.map((p) => String(p)).join('.');
}
