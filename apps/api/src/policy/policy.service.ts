import { Injectable } from '@nestjs/common';
import { RestoreTargetPolicyStore, serviceDataDirs } from '@runbooks/activities/api-surface';
import type { RestoreTargetPolicy, RunbookDefinition } from '@runbooks/contracts';
import { Store } from '@runbooks/store';
import type { ApiConfig } from '../config';
import { FieldForbiddenError } from '../http/errors';
import { preconditioned } from '../store/versions';
import { API_CONFIG } from '../tokens';
import type { RestoreTargetPolicyRead, RestoreTargetPolicyReplaced } from './policy.routes';

/** The restore target policy over the shared store, with the data folders this API knows of. */
export const restoreTargetPolicyStoreProvider = {
  provide: RestoreTargetPolicyStore,
  inject: [Store, API_CONFIG],
  useFactory: (store: Store, config: ApiConfig) => new RestoreTargetPolicyStore(store, serviceDataDirs(config.dataDir, store)),
};

/** Reads and replaces what runbooks may act on; refuses launches and schedules outside it (its version is the ETag). */
@Injectable()
export class PolicyService {
  constructor(private readonly restoreTargets: RestoreTargetPolicyStore) {}

  async readRestoreTargets(): Promise<RestoreTargetPolicyRead & { version: number }> {
    const { policy, version, updatedAt } = await this.restoreTargets.read();
    return { ...policy, updatedAt, version };
  }

  async replaceRestoreTargets(
    policy: RestoreTargetPolicy,
    expectedVersion?: number,
  ): Promise<RestoreTargetPolicyReplaced & { version: number }> {
    const written = await preconditioned('restore target policy', () => this.restoreTargets.replace(policy, expectedVersion));
    return { rules: policy.rules.length, updatedAt: written.updatedAt ?? new Date().toISOString(), version: written.version };
  }

  /** A target its definition names (admission.restoreTargets) that the policy refuses is a 403 naming the field and the rule. */
  async refuseTargetsOutsidePolicy(runbook: RunbookDefinition, input: unknown): Promise<void> {
    for (const { field, repository, target } of runbook.admission?.restoreTargets?.(input as never) ?? []) {
      const refusal = await this.restoreTargets.refusal({ repository, target });
      if (refusal !== undefined) throw new FieldForbiddenError(['input', field], `restore target policy: ${refusal}`);
    }
  }
}
