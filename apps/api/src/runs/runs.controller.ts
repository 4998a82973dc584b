import { Controller, NotAcceptableException, Req, Res } from '@nestjs/common';
import { renderReportMarkdown, type GateRecord, type Principal, type RunState } from '@runbooks/contracts';
import type { Request, Response } from 'express';
import { CurrentPrincipal } from '../auth/auth.guard';
import { ApiRoute, Valid, type BodyOf, type ParamsOf, type QueryOf } from '../http/route';
import { RunListing, type RunPage } from './run-listing';
import { runRoutes, type LaunchedRun, type RunDetail } from './runs.routes';
import { RunsService } from './runs.service';

@Controller()
export class RunsController {
  constructor(
    private readonly runs: RunsService,
    private readonly listing: RunListing,
  ) {}

  @ApiRoute(runRoutes.launch)
  async launch(
    @CurrentPrincipal() principal: Principal,
    @Valid('body') body: BodyOf<typeof runRoutes.launch>,
    @Res({ passthrough: true }) response: Response,
  ): Promise<LaunchedRun> {
    const { run, created } = await this.runs.launch(principal, body);
    response.setHeader('Location', run.links.self);
    if (!created) {
      response.status(200);
      response.setHeader('Idempotent-Replay', 'true');
    }
    return run;
  }

  @ApiRoute(runRoutes.list)
  list(@Valid('query') query: QueryOf<typeof runRoutes.list>): Promise<RunPage> {
    const { pageSize, pageToken, ...filters } = query;
    return this.listing.page(filters, pageSize, pageToken);
  }

  @ApiRoute(runRoutes.get)
  get(
    @Valid('params') { id }: ParamsOf<typeof runRoutes.get>,
    @Valid('query') { live }: QueryOf<typeof runRoutes.get>,
  ): Promise<RunDetail> {
    return this.runs.get(id, live ?? false);
  }

  @ApiRoute(runRoutes.report)
  async report(
    @Valid('params') { id }: ParamsOf<typeof runRoutes.report>,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ): Promise<{ report: RunState; markdown: string } | string> {
    // Markdown unless JSON is preferred: no Accept, */* and text/* all get Markdown.
    const type = request.accepts(['text/markdown', 'application/json', 'text/plain']);
    if (!type) throw new NotAcceptableException('the report comes as text/markdown, text/plain or application/json');
    const report = await this.runs.reportState(id);
    const markdown = renderReportMarkdown(report);
    if (type === 'application/json') return { report, markdown };
    response.type(type === 'text/plain' ? 'text/plain; charset=utf-8' : 'text/markdown; charset=utf-8');
    return markdown;
  }

  @ApiRoute(runRoutes.cancel)
  cancel(
    @CurrentPrincipal() principal: Principal,
    @Valid('params') { id }: ParamsOf<typeof runRoutes.cancel>,
    @Valid('body') { reason }: BodyOf<typeof runRoutes.cancel>,
  ): Promise<RunState> {
    return this.runs.cancel(id, principal, reason);
  }

  @ApiRoute(runRoutes.decide)
  decide(
    @CurrentPrincipal() principal: Principal,
    @Valid('params') { id, gateId }: ParamsOf<typeof runRoutes.decide>,
    @Valid('body') body: BodyOf<typeof runRoutes.decide>,
  ): Promise<GateRecord> {
    return this.runs.decide(id, gateId, principal, body);
  }
}
