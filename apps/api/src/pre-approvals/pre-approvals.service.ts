import { ConflictException, ForbiddenException, Inject, Injectable } from '@nestjs/common';
import { PreApprovalStore } from '@runbooks/activities/api-surface';
import { PRE_APPROVAL_ASSERTION, preApprovalSignedArgs, type PreApproval, type Principal } from '@runbooks/contracts';
import { Store } from '@runbooks/store';
import type { z } from 'zod';
import type { ApiConfig } from '../config';
import { RequestValidationError } from '../http/errors';
import { SchedulesService } from '../schedules/schedules.service';
import { CallerAssertions } from '../signing/caller-assertions';
import { API_CONFIG } from '../tokens';
import type { createPreApprovalBodySchema } from './pre-approvals.routes';

/** Approvals given ahead over the shared store (the worker claims them there). */
export const preApprovalStoreProvider = {
  provide: PreApprovalStore,
  inject: [Store, API_CONFIG],
  useFactory: (store: Store, config: ApiConfig): PreApprovalStore => new PreApprovalStore(store, config.preApprovalsFile),
};

@Injectable()
export class PreApprovalsService {
  constructor(
    private readonly schedules: SchedulesService,
    @Inject(PreApprovalStore) private readonly store: PreApprovalStore,
    private readonly assertions: CallerAssertions,
  ) {}

  async create(principal: Principal, scheduleId: string, body: z.infer<typeof createPreApprovalBodySchema>): Promise<PreApprovalView> {
    const { runbook, inputSha256, requestedBy } = await this.schedules.runInputOf(scheduleId);
    if (!runbook.steps.some((s) => s.id === body.gateId && s.approval)) {
      const gates = runbook.steps.filter((s) => s.approval).map((s) => s.id);
      throw new RequestValidationError('body', [
        { path: ['gateId'], message: `must be an approval gate of ${runbook.name}: ${gates.join(', ')}` },
      ]);
    }
    if (body.fireTime && Date.parse(body.fireTime) <= Date.now()) {
      throw new RequestValidationError('body', [{ path: ['fireTime'], message: 'must be a fire time in the future' }]);
    }
    if (requestedBy === principal.id) {
      throw new ForbiddenException(
        `you set the input of schedule ${scheduleId}, so its runs are your requests: another person must approve them`,
      );
    }
    if (!inputSha256)
      throw new ConflictException(`schedule ${scheduleId} has no input hash to bind an approval to; update its input first`);
    const given = { scheduleId, gateId: body.gateId, fireTime: body.fireTime, inputSha256, comment: body.comment };
    // Signed like a decision: the run counts it only if the workers can verify who gave it, with which roles.
    const { assertion } = this.assertions.args({ name: PRE_APPROVAL_ASSERTION }, principal, preApprovalSignedArgs(given));
    return view(await this.store.add({ ...given, by: principal.id, displayName: principal.displayName, assertion }));
  }

  async list(scheduleId: string): Promise<{ preApprovals: PreApprovalView[] }> {
    await this.schedules.runInputOf(scheduleId); // 404 for an unknown schedule
    return { preApprovals: (await this.store.list(scheduleId)).map(view) };
  }
}

type PreApprovalView = Omit<PreApproval, 'assertion'>;

function view(p: PreApproval): PreApprovalView {
  const shown: Partial<PreApproval> = { ...p };
  delete shown.assertion;
  return shown as PreApprovalView;
}
