import { Controller, NotFoundException } from '@nestjs/common';
import { RUNBOOKS, findRunbook } from '@runbooks/contracts';
import { ApiRoute, Valid, type ParamsOf } from '../http/route';
import { catalogRoutes, describeRunbook, unknownRunbookMessage, type RunbookSummary } from './catalog.routes';

@Controller()
export class CatalogController {
  @ApiRoute(catalogRoutes.list)
  list(): { runbooks: RunbookSummary[] } {
    return { runbooks: RUNBOOKS.map(describeRunbook) };
  }

  @ApiRoute(catalogRoutes.get)
  get(@Valid('params') { name }: ParamsOf<typeof catalogRoutes.get>): RunbookSummary {
    const def = findRunbook(name);
    if (!def) throw new NotFoundException(unknownRunbookMessage(name));
    return describeRunbook(def);
  }
}
