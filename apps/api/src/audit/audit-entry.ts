import { Injectable, Logger, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Principal } from '@runbooks/contracts';
import { Store } from '@runbooks/store';
import { requestLogFields } from '../observability';
import type { Request } from 'express';
import type { RouteDefinition } from '../http/route';
import { routeOf } from '../http/route-of';

/** Bodies up to this size go into the entry as sent; larger ones (an inventory) by size only. */
const BODY_DETAIL_LIMIT = 4096;

const ENTRY = Symbol('runbooks.auditEntry');

type AuditedRequest = Request & { principal?: Principal; [ENTRY]?: AuditEntry };

/**
 * The audit entry of one authenticated write through the API (every route that is not a GET):
 * who, which operation, on what path, and how it ended. Appended once, before the caller is
 * answered: by the route's handler wrapper when it succeeded (ApiRoute in http/route.ts), by the
 * exception filter when it was refused (http/errors.ts), whichever comes first. An entry that
 * cannot be written is logged as an error; the caller still gets the outcome of the action that
 * did happen.
 */
export class AuditEntry {
  private appended?: Promise<void>;

  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
    private readonly route: RouteDefinition,
    private readonly principal: Principal,
    private readonly request: Request,
  ) {}

  /** The write succeeded with its route's status. */
  done(): Promise<void> {
    return this.append({ outcome: 'done', status: this.route.status });
  }

  /** The write was refused (by validation, the service or the run) with this answer. */
  refused(status: number, reason: string): Promise<void> {
    return this.append({ outcome: 'refused', status, reason });
  }

  private append(outcome: Record<string, unknown>): Promise<void> {
    const { request, route } = this;
    this.appended ??= this.store.audit
      .append({
        actor: this.principal.id,
        action: route.operationId,
        target: request.path,
        detail: { ...outcome, params: request.params, ...requestDetail(request) },
      })
      .then(
        () => undefined,
        (error: unknown) =>
          this.logger.error({
            msg: `could not append the audit entry of ${route.operationId}: ${(error as Error).message}`,
            ...requestLogFields(request),
            principal: this.principal.id,
          }),
      );
    return this.appended;
  }
}

/** The entry a write's request carries once the guards let it through; none for reads and refused callers. */
export function auditEntryOf(request: Request): AuditEntry | undefined {
  return (request as AuditedRequest)[ENTRY];
}

/**
 * Opens the audit entry of every write whose caller the AuthGuard let through (registered after
 * it): requests it refuses (401, 403 for the role) get none, as before. A guard rather than a Nest
 * interceptor: the interceptor chain (rxjs, an AsyncResource per call) cost a launch about 0.2 ms of
 * the API's CPU, and guards run for every route anyway.
 */
@Injectable()
export class AuditGuard implements CanActivate {
  private readonly logger = new Logger('Audit');

  constructor(private readonly store: Store) {}

  canActivate(context: ExecutionContext): boolean {
    const route = routeOf(context.getHandler());
    if (!route || route.method === 'get') return true;
    const request = context.switchToHttp().getRequest<AuditedRequest>();
    const principal = request.principal;
    if (principal) request[ENTRY] = new AuditEntry(this.store, this.logger, route, principal, request);
    // Fail closed: a write that needs a caller reached here without one only if the AuthGuard did not run first.
    else if (route.access !== 'public') throw new Error(`${route.operationId}: the audit guard ran before the AuthGuard`);
    return true;
  }
}

function requestDetail(request: Request): Record<string, unknown> {
  const query = request.query && Object.keys(request.query).length ? { query: request.query } : {};
  if (request.body === undefined || (typeof request.body === 'object' && Object.keys(request.body ?? {}).length === 0)) return query;
  const text = JSON.stringify(request.body);
  return { ...query, ...(text.length <= BODY_DETAIL_LIMIT ? { body: request.body } : { bodyBytes: text.length }) };
}
