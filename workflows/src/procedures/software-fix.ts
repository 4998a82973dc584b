import type { SoftwareFix } from '@runbooks/contracts';
import type { HostProcedure } from './procedure';

/**
 * Software conflict resolution, per host: snapshot the one package at fault, install its fixed
 * version through the host's driver, health check; undo puts the recorded version back.
 */
export const softwareFix: HostProcedure<SoftwareFix> = {
  action: 'applying the fix',
  async prepare({ host, params, acts, key }) {
    return (await acts.snapshotHost({ host, packages: [params.package], idempotencyKey: key('snapshot') })).snapshotId;
  },
  async act({ host, params, acts, key }) {
    const patches = [{ package: params.package, version: params.version }];
    return (await acts.patchHost({ host, patches, idempotencyKey: key('fix') })).changed;
  },
  verify({ host, acts, key }) {
    return acts.checkHostHealth({ host, idempotencyKey: key('health') });
  },
  async undo({ host, acts, key }, snapshotId) {
    await acts.restoreHostSnapshot({ host, snapshotId, idempotencyKey: key('restore') });
  },
};
