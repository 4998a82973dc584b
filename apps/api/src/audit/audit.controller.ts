import { Controller } from '@nestjs/common';
import { Store } from '@runbooks/store';
import { RequestValidationError } from '../http/errors';
import { ApiRoute, Valid, type QueryOf } from '../http/route';
import { auditRoutes, type AuditPage } from './audit.routes';

@Controller()
export class AuditController {
  constructor(private readonly store: Store) {}

  @ApiRoute(auditRoutes.list)
  async list(@Valid('query') query: QueryOf<typeof auditRoutes.list>): Promise<AuditPage> {
    const { pageSize, pageToken, since, until, ...filters } = query;
    const entries = await this.store.audit.list({
      ...filters,
      since: since && new Date(since).toISOString(),
      until: until && new Date(until).toISOString(),
      limit: pageSize + 1,
      after: pageToken === undefined ? undefined : openCursor(pageToken),
    });
    const page = entries.slice(0, pageSize);
    const last = page[page.length - 1];
    return { entries: page, nextPageToken: entries.length > pageSize && last ? sealCursor(last) : null };
  }
}

function sealCursor(entry: { at: string; id: string }): string {
  return Buffer.from(JSON.stringify([entry.at, entry.id])).toString('base64url');
}

function openCursor(token: string): { at: string; id: string } {
  try {
    const [at, id] = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown[];
    if (typeof at === 'string' && typeof id === 'string') return { at, id };
  } catch {
    // falls through to the 400
  }
  throw new RequestValidationError('query', [{ path: ['pageToken'], message: 'is not a nextPageToken of the audit log' }]);
}
