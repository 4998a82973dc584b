import { Controller, NotFoundException } from '@nestjs/common';
import { RUNBOOKS } from '@runbooks/contracts';
import { ApiRoute, Valid, type ParamsOf } from '../http/route';
import { catalogRoutes, describeRunbook, unknownRunbookMessage, type RunbookSummary } from './catalog.routes';

/** The catalog never changes while the process runs: its summaries (and JSON Schemas) are built once. */
const SUMMARIES: ReadonlyMap<string, RunbookSummary> = new Map(RUNBOOKS.map((def) => [def.name, describeRunbook(def)]));

@Controller()
export class CatalogController {
  @ApiRoute(catalogRoutes.list)
  list(): { runbooks: RunbookSummary[] } {
    return { runbooks: [...SUMMARIES.values()] };
  }

  @ApiRoute(catalogRoutes.get)
  get(@Valid('params') { name }: ParamsOf<typeof catalogRoutes.get>): RunbookSummary {
    const summary = SUMMARIES.get(name);
    if (!summary) throw new NotFoundException(unknownRunbookMessage(name));
    return summary;
  }
}
