import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createActivities, defaultHostFolders, LogNotifier, type RunbookActivities } from './index';
import { minimalRunState } from './test-support/run-state';
import { storeIn } from './test-support/store';

describe('createActivities', () => {
  it('assembles every activity of the RunbookActivities contract, wired to the given notifier and reports dir', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'activities-'));
    try {
      const activities = createActivities({
        store: storeIn(dir),
        reportsDir: path.join(dir, 'reports'),
        notifier: new LogNotifier(path.join(dir, 'notifications.jsonl')),
        hosts: defaultHostFolders(path.join(dir, 'hosts')),
      });
      const names: (keyof RunbookActivities)[] = [
        'probeBackupRepository',
        'checkBackupRepository',
        'restoreToStaging',
        'verifyRestoredContent',
        'checkRestoreTarget',
        'swapIntoTarget',
        'restorePreviousContents',
        'discardStaging',
        'notify',
        'writeReport',
        'resolveTargets',
        'snapshotHost',
        'patchHost',
        'checkHostHealth',
        'restoreHostSnapshot',
        'checkMaintenanceWindow',
        'claimPreApprovals',
        'planRollout',
        'rolloutBatchHosts',
        'recordHostOutcomes',
        'skipPendingHosts',
        'changedHosts',
        'collectConflictEvidence',
        'runReproduction',
        'createSandbox',
        'trySandboxFix',
        'discardSandbox',
        'applyConflictFix',
        'undoConflictFix',
        'writeKnowledgeBaseArticle',
        'diagnose',
        'resolveIncidentScope',
        'readIncidentLogs',
        'runIncidentAction',
        'mailIncidentNotice',
        'accountRole',
        'chooseUsername',
        'createAccountEntry',
        'deleteAccountEntry',
        'issueCredentials',
        'revokeCredentials',
        'grantRoleAccess',
        'revokeAccess',
        'createHomeDrive',
        'removeHomeDrive',
        'setUpMailbox',
        'removeMailbox',
        'testAccountAccess',
        'deliverCredentials',
        'resetPassword',
        'notifyAccountHolder',
        'lockAccount',
        'removeAllAccess',
        'archiveHomeDrive',
        'setMailForward',
        'deleteAccount',
        'accountLeftovers',
        'planAccessChange',
        'applyAccessChange',
        'backupPath',
        'diagnoseHost',
        'powerDownHost',
        'powerOnHost',
        'readAsset',
        'recordAssetSwap',
        'revertAssetSwap',
      ];

      expect(Object.keys(activities).sort()).toEqual([...names].sort());
      await expect(
        activities.notify({ runId: 'r', recipients: ['a'], kind: 'escalation', subject: 's', text: 't', idempotencyKey: 'k' }),
      ).resolves.toMatchObject({ channel: `log:${path.join(dir, 'notifications.jsonl')}` });
      await expect(activities.writeReport({ state: minimalRunState('r') })).resolves.toEqual({
        firstWrite: true,
        markdownPath: path.join(dir, 'reports', 'r.md'),
        jsonPath: path.join(dir, 'reports', 'r.json'),
      });
      await expect(activities.resolveTargets({ targets: { names: ['web-1'] }, canary: { names: ['web-1'] } })).resolves.toEqual({
        targets: [],
        canary: [],
        unknownNames: ['web-1'],
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
