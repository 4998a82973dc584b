import { Controller } from '@nestjs/common';
import type { Principal } from '@runbooks/contracts';
import { CurrentPrincipal } from '../auth/auth.guard';
import { ApiRoute } from '../http/route';
import { meRoutes } from './me.routes';

@Controller()
export class MeController {
  @ApiRoute(meRoutes.get)
  get(@CurrentPrincipal() principal: Principal): Principal {
    return { id: principal.id, displayName: principal.displayName, roles: principal.roles };
  }
}
