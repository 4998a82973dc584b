import { Controller, Headers, Res } from '@nestjs/common';
import type { Response } from 'express';
import { ApiRoute, Valid, type BodyOf } from '../http/route';
import { expectedVersion, sendVersion } from '../store/versions';
import { policyRoutes, type RestoreTargetPolicyRead, type RestoreTargetPolicyReplaced } from './policy.routes';
import { PolicyService } from './policy.service';

@Controller()
export class PolicyController {
  constructor(private readonly policy: PolicyService) {}

  @ApiRoute(policyRoutes.readRestoreTargets)
  async readRestoreTargets(@Res({ passthrough: true }) response: Response): Promise<RestoreTargetPolicyRead> {
    const { version, ...policy } = await this.policy.readRestoreTargets();
    sendVersion(response, version);
    return policy;
  }

  @ApiRoute(policyRoutes.replaceRestoreTargets)
  async replaceRestoreTargets(
    @Valid('body') body: BodyOf<typeof policyRoutes.replaceRestoreTargets>,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) response: Response,
  ): Promise<RestoreTargetPolicyReplaced> {
    const { version, ...replaced } = await this.policy.replaceRestoreTargets(body, expectedVersion(ifMatch));
    sendVersion(response, version);
    return replaced;
  }
}
