import { Controller } from '@nestjs/common';
import type { PreApproval, Principal } from '@runbooks/contracts';
import { CurrentPrincipal } from '../auth/auth.guard';
import { ApiRoute, Valid, type BodyOf, type ParamsOf } from '../http/route';
import { preApprovalRoutes } from './pre-approvals.routes';
import { PreApprovalsService } from './pre-approvals.service';

@Controller()
export class PreApprovalsController {
  constructor(private readonly preApprovals: PreApprovalsService) {}

  @ApiRoute(preApprovalRoutes.create)
  create(
    @CurrentPrincipal() principal: Principal,
    @Valid('params') { id }: ParamsOf<typeof preApprovalRoutes.create>,
    @Valid('body') body: BodyOf<typeof preApprovalRoutes.create>,
  ): Promise<PreApproval> {
    return this.preApprovals.create(principal, id, body);
  }

  @ApiRoute(preApprovalRoutes.list)
  list(@Valid('params') { id }: ParamsOf<typeof preApprovalRoutes.list>): Promise<{ preApprovals: PreApproval[] }> {
    return this.preApprovals.list(id);
  }
}
