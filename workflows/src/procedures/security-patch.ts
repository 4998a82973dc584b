import type { Patch } from '@runbooks/contracts';
import type { HostProcedure } from './procedure';

export interface SecurityPatchParams {
  patches: Patch[];
}

/** Security patching, per host: snapshot the packages about to change, patch, health check; undo restores the snapshot. */
export const securityPatch: HostProcedure<SecurityPatchParams> = {
  action: 'patching',
  async prepare({ host, params, acts, key }) {
    const packages = params.patches.map((p) => p.package);
    return (await acts.snapshotHost({ host, packages, idempotencyKey: key('snapshot') })).snapshotId;
  },
  async act({ host, params, acts, key }) {
    return (await acts.patchHost({ host, patches: params.patches, idempotencyKey: key('patch') })).changed;
  },
  verify({ host, acts, key }) {
    return acts.checkHostHealth({ host, idempotencyKey: key('health') });
  },
  async undo({ host, acts, key }, snapshotId) {
    await acts.restoreHostSnapshot({ host, snapshotId, idempotencyKey: key('restore') });
  },
};
