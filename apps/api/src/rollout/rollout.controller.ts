import { Controller } from '@nestjs/common';
import type { Principal, RolloutState } from '@runbooks/contracts';
import { CurrentPrincipal } from '../auth/auth.guard';
import { ApiRoute, Valid, type BodyOf, type ParamsOf, type QueryOf } from '../http/route';
import { rolloutRoutes, type RunHostPage } from './rollout.routes';
import { RolloutService } from './rollout.service';

@Controller()
export class RolloutController {
  constructor(private readonly rollout: RolloutService) {}

  @ApiRoute(rolloutRoutes.pause)
  pause(
    @CurrentPrincipal() principal: Principal,
    @Valid('params') { id }: ParamsOf<typeof rolloutRoutes.pause>,
    @Valid('body') body: BodyOf<typeof rolloutRoutes.pause>,
  ): Promise<RolloutState> {
    return this.rollout.pause(id, principal, body);
  }

  @ApiRoute(rolloutRoutes.resume)
  resume(
    @CurrentPrincipal() principal: Principal,
    @Valid('params') { id }: ParamsOf<typeof rolloutRoutes.resume>,
    @Valid('body') body: BodyOf<typeof rolloutRoutes.resume>,
  ): Promise<RolloutState> {
    return this.rollout.resume(id, principal, body);
  }

  @ApiRoute(rolloutRoutes.concurrency)
  setConcurrency(
    @CurrentPrincipal() principal: Principal,
    @Valid('params') { id }: ParamsOf<typeof rolloutRoutes.concurrency>,
    @Valid('body') body: BodyOf<typeof rolloutRoutes.concurrency>,
  ): Promise<RolloutState> {
    return this.rollout.setConcurrency(id, principal, body);
  }

  @ApiRoute(rolloutRoutes.skip)
  skip(
    @CurrentPrincipal() principal: Principal,
    @Valid('params') { id }: ParamsOf<typeof rolloutRoutes.skip>,
    @Valid('body') body: BodyOf<typeof rolloutRoutes.skip>,
  ): Promise<RolloutState> {
    return this.rollout.skipHost(id, principal, body);
  }

  @ApiRoute(rolloutRoutes.hosts)
  hosts(
    @Valid('params') { id }: ParamsOf<typeof rolloutRoutes.hosts>,
    @Valid('query') query: QueryOf<typeof rolloutRoutes.hosts>,
  ): Promise<RunHostPage> {
    return this.rollout.hosts(id, query);
  }

  @ApiRoute(rolloutRoutes.abort)
  abort(
    @CurrentPrincipal() principal: Principal,
    @Valid('params') { id }: ParamsOf<typeof rolloutRoutes.abort>,
    @Valid('body') body: BodyOf<typeof rolloutRoutes.abort>,
  ): Promise<RolloutState> {
    return this.rollout.abort(id, principal, body);
  }
}
