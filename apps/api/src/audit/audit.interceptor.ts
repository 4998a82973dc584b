import { HttpException, Injectable, Logger, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Principal } from '@runbooks/contracts';
import { Store } from '@runbooks/store';
import type { Request } from 'express';
import { catchError, from, mergeMap, type Observable } from 'rxjs';
import { ROUTE_METADATA, type RouteDefinition } from '../http/route';

/** Bodies up to this size go into the entry as sent; larger ones (an inventory) by size only. */
const BODY_DETAIL_LIMIT = 4096;

/**
 * Appends one audit entry for every authenticated write through the API (every route that is not
 * a GET), after it ran: who, which operation, on what path, and how it ended (its status, or the
 * refusal). Requests the guard refuses (401, 403 for the role) never reach it. One place, so no operator action can skip the log. An entry that cannot be written
 * is logged as an error; the caller still gets the outcome of the action that did happen.
 */
@Injectable()
export class AuditInterceptor implements NestInterceptor {
  private readonly logger = new Logger('Audit');

  constructor(
    private readonly reflector: Reflector,
    private readonly store: Store,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const route = this.reflector.get<RouteDefinition | undefined>(ROUTE_METADATA, context.getHandler());
    const request = context.switchToHttp().getRequest<Request & { principal?: Principal }>();
    const principal = request.principal;
    if (!route || route.method === 'get' || !principal) return next.handle();
    const record = (outcome: Record<string, unknown>) =>
      this.store.audit
        .append({
          actor: principal.id,
          action: route.operationId,
          target: request.path,
          detail: { ...outcome, params: request.params, ...requestDetail(request) },
        })
        .catch((error: unknown) =>
          this.logger.error(`could not append the audit entry of ${route.operationId}: ${(error as Error).message}`),
        );
    return next.handle().pipe(
      mergeMap((value) => from(record({ outcome: 'done', status: route.status }).then(() => value))),
      catchError((error: unknown) =>
        from(
          record({
            outcome: 'refused',
            status: error instanceof HttpException ? error.getStatus() : undefined,
            reason: (error as Error).message,
          }).then(() => {
            throw error;
          }),
        ),
      ),
    );
  }
}

function requestDetail(request: Request): Record<string, unknown> {
  const query = request.query && Object.keys(request.query).length ? { query: request.query } : {};
  if (request.body === undefined || (typeof request.body === 'object' && Object.keys(request.body ?? {}).length === 0)) return query;
  const text = JSON.stringify(request.body);
  return { ...query, ...(text.length <= BODY_DETAIL_LIMIT ? { body: request.body } : { bodyBytes: text.length }) };
}
