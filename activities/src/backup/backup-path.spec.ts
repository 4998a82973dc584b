import path from 'node:path';
import { TestSecrets } from '../test-support/secrets';
import { createResticRepository, writeTree, type ResticRepositoryFixture } from '../test-support/restic-repository';
import type { BackupRepositoryRef } from '../types';
import { createBackupActivities } from './activities';
import { ResticDriver } from './restic';

const PASSWORD_VARIABLE = 'RUNBOOKS_SECRET_TEST_BACKUP_PATH';

describe('backupPath on a real restic repository', () => {
  const secrets = new TestSecrets();
  const activities = createBackupActivities(new ResticDriver(), secrets.resolver());
  let fixture: ResticRepositoryFixture;
  let repository: BackupRepositoryRef;

  beforeAll(() => {
    fixture = createResticRepository();
    process.env[PASSWORD_VARIABLE] = fixture.password;
    secrets.define({
      name: 'backup/backup-path',
      source: { backend: 'env', variable: PASSWORD_VARIABLE },
      runbooks: ['hardware-swap'],
      roles: ['technician'],
      repositories: [fixture.repoDir],
    });
    repository = { url: fixture.repoDir, passwordRef: 'secret:backup/backup-path' };
  });
  afterAll(() => {
    delete process.env[PASSWORD_VARIABLE];
    fixture.remove();
    secrets.remove();
  });

  it('takes one snapshot of the folder under the host’s name; a retry with the same key finds it instead of taking another', async () => {
    const home = path.join(fixture.root, 'ws-1', 'home');
    writeTree(home, { 'thesis.md': Buffer.from('# thesis\n') });
    const first = await activities.backupPath({ repository, path: home, host: 'ws-1', idempotencyKey: 'hardware-swap-1/backup' });
    expect(first.reused).toBe(false);
    const again = await activities.backupPath({ repository, path: home, host: 'ws-1', idempotencyKey: 'hardware-swap-1/backup' });
    expect(again).toEqual({ ...first, reused: true });

    const { snapshots } = await activities.checkBackupRepository({ repository });
    const taken = snapshots.filter((s) => s.hostname === 'ws-1');
    expect(taken.map((s) => [s.id, s.paths])).toEqual([[first.snapshotId, [home]]]);
    const other = await activities.backupPath({ repository, path: home, host: 'ws-1', idempotencyKey: 'hardware-swap-2/backup' });
    expect(other.snapshotId).not.toBe(first.snapshotId);
  });
});
