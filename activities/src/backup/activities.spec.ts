import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createHash } from 'node:crypto';
import { appendFileSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { FileFailureType } from '../files/activities';
import {
  createResticRepository,
  PROJECTS_MODE,
  readTree,
  writeTree,
  type ResticRepositoryFixture,
} from '../test-support/restic-repository';
import { TestSecrets } from '../test-support/secrets';
import type { BackupRepositoryRef, VerifyRestoredContentInput } from '../types';
import { CHECKSUM_MISMATCH, createBackupActivities } from './activities';
import { BackupFailureType, ResticDriver } from './restic';

const PASSWORD_VARIABLE = 'RUNBOOKS_SECRET_TEST_RESTIC_PASSWORD';
const SECRET = 'backup/test-projects';

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApplicationFailure);
  return error as ApplicationFailure;
}

function sha256(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

describe('backup activities on a real restic repository', () => {
  const secrets = new TestSecrets();
  const activities = createBackupActivities(new ResticDriver(), secrets.resolver());
  let fixture: ResticRepositoryFixture;
  let repository: BackupRepositoryRef;
  let counter = 0;
  /** A fresh staging folder path per test, not yet created. */
  const newStagingDir = () => path.join(fixture.root, 'work', `staging-${++counter}`);

  beforeAll(() => {
    fixture = createResticRepository();
    process.env[PASSWORD_VARIABLE] = fixture.password;
    secrets.define({
      name: SECRET,
      source: { backend: 'env', variable: PASSWORD_VARIABLE },
      runbooks: ['data-restore'],
      roles: ['technician'],
      repositories: [fixture.repoDir],
    });
    repository = { url: fixture.repoDir, passwordRef: `secret:${SECRET}` };
  });
  afterAll(() => {
    delete process.env[PASSWORD_VARIABLE];
    fixture.remove();
    secrets.remove();
  });

  describe('checkBackupRepository', () => {
    it('checks the repository and returns every snapshot with a one-line summary', async () => {
      const result = await activities.checkBackupRepository({ repository });

      expect(result.summary).toBe('restic check: no errors; 2 snapshots');
      expect(result.snapshots.map((s) => s.shortId)).toEqual([fixture.older.id, fixture.newer.id].map((id) => id.slice(0, 8)));
    });

    it('fails as BackupRepositoryUnhealthy on a damaged repository', async () => {
      const damaged = fixture.copyRepository('repo-damaged-for-activity');
      rmSync(fixture.dataPackFiles(damaged)[0]);
      secrets.allowRepository(SECRET, damaged);

      const failure = await failureOf(activities.checkBackupRepository({ repository: { ...repository, url: damaged } }));

      expect(failure.type).toBe(BackupFailureType.unhealthy);
    });
  });

  describe('restoreToStaging', () => {
    it('restores exactly the files of the path as the older snapshot holds them, not the newest, with the folder mode', async () => {
      const stagingDir = newStagingDir();

      const result = await activities.restoreToStaging({
        repository,
        snapshotId: fixture.older.id,
        path: fixture.projectsPath,
        stagingDir,
        idempotencyKey: 'restore-1',
      });

      expect(readTree(stagingDir)).toEqual(fixture.older.content);
      expect(statSync(stagingDir).mode & 0o777).toBe(PROJECTS_MODE);
      const olderFiles = Object.values(fixture.older.content);
      expect(result).toEqual({
        stagingDir,
        files: olderFiles.length,
        bytes: olderFiles.reduce((sum, bytes) => sum + bytes.length, 0),
        resticVerified: true,
      });
    });

    it('gives the same result when retried over a half-filled staging folder', async () => {
      const stagingDir = newStagingDir();
      const input = {
        repository,
        snapshotId: fixture.older.id,
        path: fixture.projectsPath,
        stagingDir,
        idempotencyKey: 'restore-2',
      };
      const first = await activities.restoreToStaging(input);
      // What a crashed attempt may leave: a stray file, a changed one, leftover scratch.
      writeFileSync(path.join(stagingDir, 'stray.txt'), 'left by a crashed attempt');
      appendFileSync(path.join(stagingDir, 'report.txt'), 'half-written');
      mkdirSync(path.join(stagingDir, '.restic-restore-crashed'));

      const second = await activities.restoreToStaging(input);

      expect(second).toEqual(first);
      expect(readTree(stagingDir)).toEqual(fixture.older.content);
    });

    it('heartbeats while restic restores, when run as an activity', async () => {
      const env = new MockActivityEnvironment({ workflowType: 'dataRestore' });
      const heartbeats: unknown[] = [];
      env.on('heartbeat', (details: unknown) => heartbeats.push(details));
      const stagingDir = newStagingDir();

      await env.run(activities.restoreToStaging, {
        repository,
        snapshotId: fixture.older.id,
        path: fixture.projectsPath,
        stagingDir,
        idempotencyKey: 'restore-heartbeat',
      });

      expect(heartbeats).toContain(`restic restore ${fixture.older.id}`);
      expect(readTree(stagingDir)).toEqual(fixture.older.content);
    });

    it('stops restic and restores nothing when the activity is cancelled', async () => {
      const env = new MockActivityEnvironment({ workflowType: 'dataRestore' });
      env.on('heartbeat', () => env.cancel());
      const stagingDir = newStagingDir();

      const outcome = env.run(activities.restoreToStaging, {
        repository,
        snapshotId: fixture.older.id,
        path: fixture.projectsPath,
        stagingDir,
        idempotencyKey: 'restore-cancelled',
      });

      await expect(outcome).rejects.toThrow();
      expect(readTree(stagingDir)).toEqual({});
    });

    it('restores a path whose name holds glob characters, and only that path', async () => {
      const stagingDir = newStagingDir();

      await activities.restoreToStaging({
        repository,
        snapshotId: fixture.newer.id,
        path: fixture.globNamedPath,
        stagingDir,
        idempotencyKey: 'restore-3',
      });

      expect(Object.keys(readTree(stagingDir))).toEqual(['member.txt']);
    });

    it('refuses a path the snapshot does not hold, as SnapshotPathMissing', async () => {
      const failure = await failureOf(
        activities.restoreToStaging({
          repository,
          snapshotId: fixture.older.id,
          path: path.join(fixture.projectsPath, 'no-such-folder'),
          stagingDir: newStagingDir(),
          idempotencyKey: 'restore-4',
        }),
      );

      expect(failure.type).toBe(BackupFailureType.pathNotInSnapshot);
    });
  });

  describe('verifyRestoredContent', () => {
    /** A faithful restore of the older snapshot into a fresh staging folder. */
    async function restoredOlder(): Promise<VerifyRestoredContentInput> {
      const stagingDir = newStagingDir();
      await activities.restoreToStaging({
        repository,
        snapshotId: fixture.older.id,
        path: fixture.projectsPath,
        stagingDir,
        idempotencyKey: `verify-${counter}`,
      });
      return { repository, snapshotId: fixture.older.id, path: fixture.projectsPath, stagingDir };
    }

    it('passes on a faithful restore, with file count, bytes, manifest hash and sample', async () => {
      const input = await restoredOlder();

      const result = await activities.verifyRestoredContent(input);

      const manifest = Object.entries(fixture.older.content)
        .map(([rel, bytes]) => ({ path: rel, bytes: bytes.length, sha256: sha256(bytes) }))
        .sort((a, b) => (a.path < b.path ? -1 : 1));
      expect(result).toEqual({
        files: manifest.length,
        bytes: manifest.reduce((sum, entry) => sum + entry.bytes, 0),
        manifestSha256: sha256(manifest.map((entry) => `${entry.sha256}  ${entry.path}\n`).join('')),
        sample: manifest,
      });
    });

    it('throws ChecksumMismatch naming the file when a restored file was altered', async () => {
      const input = await restoredOlder();
      writeFileSync(path.join(input.stagingDir, 'sub/deeper/notes.md'), '# notes, edited after the restore\n');

      const failure = await failureOf(activities.verifyRestoredContent(input));

      expect(failure.type).toBe(CHECKSUM_MISMATCH);
      expect(failure.nonRetryable).toBe(true);
      expect(failure.message).toContain('sub/deeper/notes.md: content differs from the snapshot');
    });

    it('throws ChecksumMismatch when a file is missing from staging', async () => {
      const input = await restoredOlder();
      rmSync(path.join(input.stagingDir, 'report.txt'));

      const failure = await failureOf(activities.verifyRestoredContent(input));

      expect(failure.type).toBe(CHECKSUM_MISMATCH);
      expect(failure.message).toContain('report.txt: missing from staging');
    });

    it('throws ChecksumMismatch when staging holds a file the snapshot does not', async () => {
      const input = await restoredOlder();
      writeTree(input.stagingDir, { 'sub/extra.txt': Buffer.from('not from the backup') });

      const failure = await failureOf(activities.verifyRestoredContent(input));

      expect(failure.type).toBe(CHECKSUM_MISMATCH);
      expect(failure.message).toContain('sub/extra.txt: in staging but not in the snapshot');
    });

    it('names at most 10 problems and counts the rest', async () => {
      const input = await restoredOlder();
      writeTree(
        input.stagingDir,
        Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`extra-${String(i).padStart(2, '0')}.txt`, Buffer.from('x')])),
      );

      const failure = await failureOf(activities.verifyRestoredContent(input));

      expect(failure.message).toContain('12 problems');
      expect(failure.message).toContain('extra-09.txt');
      expect(failure.message).not.toContain('extra-10.txt');
      expect(failure.message).toContain('and 2 more');
    });

    it('refuses to verify a staging folder that does not exist', async () => {
      const failure = await failureOf(
        activities.verifyRestoredContent({
          repository,
          snapshotId: fixture.older.id,
          path: fixture.projectsPath,
          stagingDir: newStagingDir(),
        }),
      );

      expect(failure.type).toBe(FileFailureType.stagingMissing);
    });
  });

  it('never puts the restic password into a result or an error', async () => {
    const stagingDir = newStagingDir();
    const verifyInput = { repository, snapshotId: fixture.older.id, path: fixture.projectsPath, stagingDir };
    const results = [
      await activities.checkBackupRepository({ repository }),
      await activities.restoreToStaging({ ...verifyInput, idempotencyKey: 'leak-check' }),
      await activities.verifyRestoredContent(verifyInput),
    ];
    const damaged = fixture.copyRepository('repo-damaged-for-leak-check');
    rmSync(fixture.dataPackFiles(damaged)[0]);
    secrets.allowRepository(SECRET, damaged);
    secrets.allowRepository(SECRET, path.join(fixture.root, 'gone'));
    const failures = await Promise.all([
      failureOf(activities.checkBackupRepository({ repository: { ...repository, url: damaged } })),
      failureOf(activities.checkBackupRepository({ repository: { ...repository, url: path.join(fixture.root, 'gone') } })),
      failureOf(activities.restoreToStaging({ ...verifyInput, snapshotId: 'deadbeef', idempotencyKey: 'leak-check-2' })),
    ]);

    for (const outcome of [...results, ...failures.map((f) => ({ message: f.message, type: f.type, details: f.details }))]) {
      expect(JSON.stringify(outcome)).not.toContain(fixture.password);
    }
  });
});
