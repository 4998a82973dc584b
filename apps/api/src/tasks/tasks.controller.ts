import { Controller } from '@nestjs/common';
import type { Principal, TaskRecord } from '@runbooks/contracts';
import { CurrentPrincipal } from '../auth/auth.guard';
import { ApiRoute, Valid, type BodyOf, type ParamsOf, type QueryOf } from '../http/route';
import { taskRoutes, type OpenTask } from './tasks.routes';
import { TasksService } from './tasks.service';

@Controller()
export class TasksController {
  constructor(private readonly tasks: TasksService) {}

  @ApiRoute(taskRoutes.list)
  async list(
    @CurrentPrincipal() principal: Principal,
    @Valid('query') query: QueryOf<typeof taskRoutes.list>,
  ): Promise<{ tasks: OpenTask[] }> {
    return { tasks: await this.tasks.list(principal, query) };
  }

  @ApiRoute(taskRoutes.claim)
  claim(
    @CurrentPrincipal() principal: Principal,
    @Valid('params') { id, taskId }: ParamsOf<typeof taskRoutes.claim>,
    @Valid('body') _body: BodyOf<typeof taskRoutes.claim>,
  ): Promise<TaskRecord> {
    return this.tasks.claim(id, taskId, principal);
  }

  @ApiRoute(taskRoutes.release)
  release(
    @CurrentPrincipal() principal: Principal,
    @Valid('params') { id, taskId }: ParamsOf<typeof taskRoutes.release>,
    @Valid('body') body: BodyOf<typeof taskRoutes.release>,
  ): Promise<TaskRecord> {
    return this.tasks.release(id, taskId, principal, body);
  }

  @ApiRoute(taskRoutes.reassign)
  reassign(
    @CurrentPrincipal() principal: Principal,
    @Valid('params') { id, taskId }: ParamsOf<typeof taskRoutes.reassign>,
    @Valid('body') body: BodyOf<typeof taskRoutes.reassign>,
  ): Promise<TaskRecord> {
    return this.tasks.reassign(id, taskId, principal, body);
  }

  @ApiRoute(taskRoutes.complete)
  complete(
    @CurrentPrincipal() principal: Principal,
    @Valid('params') { id, taskId }: ParamsOf<typeof taskRoutes.complete>,
    @Valid('body') body: BodyOf<typeof taskRoutes.complete>,
  ): Promise<TaskRecord> {
    return this.tasks.complete(id, taskId, principal, body);
  }
}
