import type { ConflictFix, SoftwareFix } from '@runbooks/contracts';
import type { HostProcedure } from './procedure';

/**
 * Software conflict resolution, per host: snapshot the one package at fault, install its fixed
 * version through the host's driver (or roll it back and hold it, as software-conflict does on
 * one host), health check; undo puts the recorded version back (and releases the hold).
 */
export const softwareFix: HostProcedure<SoftwareFix> = {
  action: 'applying the fix',
  async prepare({ host, params, acts, key }) {
    return (await acts.snapshotHost({ host, packages: [params.package], idempotencyKey: key('snapshot') })).snapshotId;
  },
  async act({ host, params, acts, key }) {
    const rollback = conflictRollback(params);
    if (rollback) {
      const r = await acts.applyConflictFix({ host, fix: rollback, idempotencyKey: key('fix') });
      return r.from === r.version ? [] : [{ package: r.package, from: r.from ?? null, to: r.version ?? params.version }];
    }
    const patches = [{ package: params.package, version: params.version }];
    return (await acts.patchHost({ host, patches, idempotencyKey: key('fix') })).changed;
  },
  verify({ host, acts, key }) {
    return acts.checkHostHealth({ host, idempotencyKey: key('health') });
  },
  async undo({ host, params, acts, key }, snapshotId) {
    const rollback = conflictRollback(params);
    if (rollback) await acts.undoConflictFix({ host, fix: rollback, snapshotId, idempotencyKey: key('restore') });
    else await acts.restoreHostSnapshot({ host, snapshotId, idempotencyKey: key('restore') });
  },
};

/**
 * A rollback goes through software-conflict's own fix and undo (kept .debs, the hold); an update
 * (and every input from before `action` existed) through patchHost, so released histories replay.
 */
function conflictRollback(fix: SoftwareFix): ConflictFix | undefined {
  return fix.action === 'rollback'
    ? { action: 'rollback', package: fix.package, version: fix.version, hold: fix.hold ?? false }
    : undefined;
}
