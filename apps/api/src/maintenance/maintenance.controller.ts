import { Controller } from '@nestjs/common';
import type { ChangeFreeze } from '@runbooks/contracts';
import { ApiRoute, Valid, type BodyOf, type ParamsOf, type QueryOf } from '../http/route';
import { maintenanceRoutes, type CalendarView, type WindowView } from './maintenance.routes';
import { MaintenanceService } from './maintenance.service';

@Controller()
export class MaintenanceController {
  constructor(private readonly maintenance: MaintenanceService) {}

  @ApiRoute(maintenanceRoutes.get)
  get(@Valid('query') { at }: QueryOf<typeof maintenanceRoutes.get>): Promise<CalendarView> {
    return this.maintenance.calendar(at === undefined ? undefined : new Date(at));
  }

  @ApiRoute(maintenanceRoutes.putWindow)
  putWindow(
    @Valid('params') { name }: ParamsOf<typeof maintenanceRoutes.putWindow>,
    @Valid('body') body: BodyOf<typeof maintenanceRoutes.putWindow>,
  ): Promise<WindowView> {
    return this.maintenance.putWindow(name, body);
  }

  @ApiRoute(maintenanceRoutes.deleteWindow)
  deleteWindow(@Valid('params') { name }: ParamsOf<typeof maintenanceRoutes.deleteWindow>): Promise<void> {
    return this.maintenance.deleteWindow(name);
  }

  @ApiRoute(maintenanceRoutes.putFreeze)
  putFreeze(
    @Valid('params') { name }: ParamsOf<typeof maintenanceRoutes.putFreeze>,
    @Valid('body') body: BodyOf<typeof maintenanceRoutes.putFreeze>,
  ): Promise<ChangeFreeze> {
    return this.maintenance.putFreeze(name, body);
  }

  @ApiRoute(maintenanceRoutes.deleteFreeze)
  deleteFreeze(@Valid('params') { name }: ParamsOf<typeof maintenanceRoutes.deleteFreeze>): Promise<void> {
    return this.maintenance.deleteFreeze(name);
  }
}
