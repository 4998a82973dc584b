import { Controller, Res } from '@nestjs/common';
import type { Principal } from '@runbooks/contracts';
import type { Response } from 'express';
import { CurrentPrincipal } from '../auth/auth.guard';
import { ApiRoute, Valid, type BodyOf, type ParamsOf, type QueryOf } from '../http/route';
import { scheduleRoutes, type ScheduleActionAccepted, type ScheduleList, type ScheduleView } from './schedules.routes';
import { SchedulesService } from './schedules.service';

@Controller()
export class SchedulesController {
  constructor(private readonly schedules: SchedulesService) {}

  @ApiRoute(scheduleRoutes.create)
  async create(
    @CurrentPrincipal() principal: Principal,
    @Valid('body') body: BodyOf<typeof scheduleRoutes.create>,
    @Res({ passthrough: true }) response: Response,
  ): Promise<ScheduleView> {
    const schedule = await this.schedules.create(principal, body);
    response.setHeader('Location', schedule.links.self);
    return schedule;
  }

  @ApiRoute(scheduleRoutes.list)
  list(@Valid('query') query: QueryOf<typeof scheduleRoutes.list>): Promise<ScheduleList> {
    return this.schedules.list(query.runbook);
  }

  @ApiRoute(scheduleRoutes.get)
  get(
    @Valid('params') { id }: ParamsOf<typeof scheduleRoutes.get>,
    @Valid('query') query: QueryOf<typeof scheduleRoutes.get>,
  ): Promise<ScheduleView> {
    return this.schedules.get(id, query.next, query.from === undefined ? undefined : new Date(query.from));
  }

  @ApiRoute(scheduleRoutes.patch)
  patch(
    @CurrentPrincipal() principal: Principal,
    @Valid('params') { id }: ParamsOf<typeof scheduleRoutes.patch>,
    @Valid('body') body: BodyOf<typeof scheduleRoutes.patch>,
  ): Promise<ScheduleView> {
    return this.schedules.patch(principal, id, body);
  }

  @ApiRoute(scheduleRoutes.delete)
  delete(@CurrentPrincipal() principal: Principal, @Valid('params') { id }: ParamsOf<typeof scheduleRoutes.delete>): Promise<void> {
    return this.schedules.delete(principal, id);
  }

  @ApiRoute(scheduleRoutes.pause)
  pause(
    @CurrentPrincipal() principal: Principal,
    @Valid('params') { id }: ParamsOf<typeof scheduleRoutes.pause>,
    @Valid('body') body: BodyOf<typeof scheduleRoutes.pause>,
  ): Promise<ScheduleView> {
    return this.schedules.pause(principal, id, body.note);
  }

  @ApiRoute(scheduleRoutes.unpause)
  unpause(
    @CurrentPrincipal() principal: Principal,
    @Valid('params') { id }: ParamsOf<typeof scheduleRoutes.unpause>,
    @Valid('body') body: BodyOf<typeof scheduleRoutes.unpause>,
  ): Promise<ScheduleView> {
    return this.schedules.unpause(principal, id, body.note);
  }

  @ApiRoute(scheduleRoutes.trigger)
  trigger(
    @CurrentPrincipal() principal: Principal,
    @Valid('params') { id }: ParamsOf<typeof scheduleRoutes.trigger>,
    @Valid('body') body: BodyOf<typeof scheduleRoutes.trigger>,
  ): Promise<ScheduleActionAccepted> {
    return this.schedules.trigger(principal, id, body.overlap);
  }

  @ApiRoute(scheduleRoutes.backfill)
  backfill(
    @CurrentPrincipal() principal: Principal,
    @Valid('params') { id }: ParamsOf<typeof scheduleRoutes.backfill>,
    @Valid('body') body: BodyOf<typeof scheduleRoutes.backfill>,
  ): Promise<ScheduleActionAccepted> {
    return this.schedules.backfill(principal, id, body);
  }
}
