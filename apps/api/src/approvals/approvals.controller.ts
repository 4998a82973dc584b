import { Controller } from '@nestjs/common';
import type { Principal } from '@runbooks/contracts';
import { CurrentPrincipal } from '../auth/auth.guard';
import { ApiRoute, Valid, type QueryOf } from '../http/route';
import { approvalRoutes, type PendingApproval } from './approvals.routes';
import { ApprovalsService } from './approvals.service';

@Controller()
export class ApprovalsController {
  constructor(private readonly approvals: ApprovalsService) {}

  @ApiRoute(approvalRoutes.list)
  async list(
    @CurrentPrincipal() principal: Principal,
    @Valid('query') _query: QueryOf<typeof approvalRoutes.list>,
  ): Promise<{ approvals: PendingApproval[] }> {
    return { approvals: await this.approvals.pendingFor(principal) };
  }
}
