import { Controller, Headers, Res } from '@nestjs/common';
import type { ChangeFreeze } from '@runbooks/contracts';
import type { Response } from 'express';
import { ApiRoute, Valid, type BodyOf, type ParamsOf, type QueryOf } from '../http/route';
import { expectedVersion, sendVersion } from '../store/versions';
import { maintenanceRoutes, type CalendarView, type WindowView } from './maintenance.routes';
import { MaintenanceService, type AtVersion } from './maintenance.service';

/** Every answer carries the calendar's version as its ETag; writes honour If-Match. */
@Controller()
export class MaintenanceController {
  constructor(private readonly maintenance: MaintenanceService) {}

  @ApiRoute(maintenanceRoutes.get)
  async get(
    @Valid('query') { at }: QueryOf<typeof maintenanceRoutes.get>,
    @Res({ passthrough: true }) response: Response,
  ): Promise<CalendarView> {
    return versioned(response, await this.maintenance.calendar(at === undefined ? undefined : new Date(at)));
  }

  @ApiRoute(maintenanceRoutes.putWindow)
  async putWindow(
    @Valid('params') { name }: ParamsOf<typeof maintenanceRoutes.putWindow>,
    @Valid('body') body: BodyOf<typeof maintenanceRoutes.putWindow>,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) response: Response,
  ): Promise<WindowView> {
    return versioned(response, await this.maintenance.putWindow(name, body, expectedVersion(ifMatch)));
  }

  @ApiRoute(maintenanceRoutes.deleteWindow)
  async deleteWindow(
    @Valid('params') { name }: ParamsOf<typeof maintenanceRoutes.deleteWindow>,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) response: Response,
  ): Promise<void> {
    sendVersion(response, await this.maintenance.deleteWindow(name, expectedVersion(ifMatch)));
  }

  @ApiRoute(maintenanceRoutes.putFreeze)
  async putFreeze(
    @Valid('params') { name }: ParamsOf<typeof maintenanceRoutes.putFreeze>,
    @Valid('body') body: BodyOf<typeof maintenanceRoutes.putFreeze>,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) response: Response,
  ): Promise<ChangeFreeze> {
    return versioned(response, await this.maintenance.putFreeze(name, body, expectedVersion(ifMatch)));
  }

  @ApiRoute(maintenanceRoutes.deleteFreeze)
  async deleteFreeze(
    @Valid('params') { name }: ParamsOf<typeof maintenanceRoutes.deleteFreeze>,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) response: Response,
  ): Promise<void> {
    sendVersion(response, await this.maintenance.deleteFreeze(name, expectedVersion(ifMatch)));
  }
}

function versioned<T>(response: Response, { value, version }: AtVersion<T>): T {
  sendVersion(response, version);
  return value;
}
