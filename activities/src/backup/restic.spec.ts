import { ApplicationFailure } from '@temporalio/common';
import { createHash } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createResticRepository, type ResticRepositoryFixture } from '../test-support/restic-repository';
import { BackupFailureType, ResticDriver, type BackupRepositoryAccess } from './restic';

/** The ApplicationFailure a promise rejects with (fails the test if it resolves or throws anything else). */
async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApplicationFailure);
  return error as ApplicationFailure;
}

describe('ResticDriver against real restic repositories', () => {
  let fixture: ResticRepositoryFixture;
  let repo: BackupRepositoryAccess;
  const driver = new ResticDriver();

  beforeAll(() => {
    fixture = createResticRepository();
    repo = { url: fixture.repoDir, password: fixture.password };
  });
  afterAll(() => fixture.remove());

  it('lists the snapshots oldest first with their ids, times, host and paths', async () => {
    const snapshots = await driver.listSnapshots(repo);

    expect(snapshots).toEqual([
      expect.objectContaining({
        id: expect.stringMatching(new RegExp(`^${fixture.older.id}`)),
        shortId: fixture.older.id.slice(0, 8),
        hostname: 'demo',
        paths: [path.dirname(fixture.projectsPath)],
        tags: [],
      }),
      expect.objectContaining({ id: expect.stringMatching(new RegExp(`^${fixture.newer.id}`)) }),
    ]);
    expect(snapshots.map((s) => Date.parse(s.time))).toEqual([Date.parse('2026-01-01T10:00:00Z'), Date.parse('2026-01-02T10:00:00Z')]);
  });

  it('passes check on a healthy repository', async () => {
    await expect(driver.check(repo)).resolves.toBeUndefined();
  });

  it('fails check as BackupRepositoryUnhealthy, naming the pack, when a data pack file is deleted', async () => {
    const damaged = fixture.copyRepository('repo-pack-deleted');
    const [pack] = fixture.dataPackFiles(damaged);
    rmSync(pack);

    const failure = await failureOf(driver.check({ url: damaged, password: fixture.password }));

    expect(failure.type).toBe(BackupFailureType.unhealthy);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain(path.basename(pack));
    expect(failure.message).toMatch(/does not exist/);
  });

  it('fails check as BackupRepositoryUnhealthy when a data pack file is overwritten with garbage', async () => {
    const damaged = fixture.copyRepository('repo-pack-garbage');
    const [pack] = fixture.dataPackFiles(damaged);
    writeFileSync(pack, 'this is not a restic pack file');

    const failure = await failureOf(driver.check({ url: damaged, password: fixture.password }));

    expect(failure.type).toBe(BackupFailureType.unhealthy);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain(path.basename(pack));
  });

  it('reports a repository path that does not exist as BackupRepositoryUnreachable, retryable', async () => {
    const missing = path.join(fixture.root, 'no-such-repo');

    const failure = await failureOf(driver.listSnapshots({ url: missing, password: fixture.password }));

    expect(failure.type).toBe(BackupFailureType.unreachable);
    expect(failure.nonRetryable).toBe(false);
    expect(failure.message).toContain(missing);
  });

  it('reports a wrong password only as a repository that could not be opened, not retryable', async () => {
    const failure = await failureOf(driver.check({ url: fixture.repoDir, password: 'not-the-password' }));

    expect(failure.type).toBe(BackupFailureType.unauthorized);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toBe(`could not open the repository at ${fixture.repoDir}`);
  });

  it('probes a local repository without its password, and says when a folder holds none', async () => {
    const found = await driver.probe(fixture.repoDir);
    expect(found.found).toBe(true);
    expect(found.summary).toContain('password is checked after the approval');

    const failure = await failureOf(driver.probe(path.join(fixture.root, 'no-such-repo')));
    expect(failure.type).toBe(BackupFailureType.unreachable);
  });

  it('probes a REST repository whose URL carries the server login, sending it as HTTP basic auth', async () => {
    const seen: (string | undefined)[] = [];
    const server = http.createServer((req, res) => {
      seen.push(req.headers.authorization);
      const ok = req.method === 'HEAD' && req.url === '/repo/config' && req.headers.authorization === `Basic ${btoa('backup:s3cr3t')}`;
      res.writeHead(ok ? 200 : 401).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const found = await driver.probe(`rest:http://backup:s3cr3t@127.0.0.1:${port}/repo/`);
      expect(found.found).toBe(true);
      expect(found.summary).not.toContain('s3cr3t');
      expect(seen).toEqual([`Basic ${btoa('backup:s3cr3t')}`]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('redacts the password even where restic echoes it (here: inside the repository path)', async () => {
    const pathHoldingPassword = path.join(fixture.root, `missing-${fixture.password}`);

    const failure = await failureOf(driver.listSnapshots({ url: pathHoldingPassword, password: fixture.password }));

    expect(failure.type).toBe(BackupFailureType.unreachable);
    expect(JSON.stringify({ message: failure.message, details: failure.details })).not.toContain(fixture.password);
  });

  it('lists the entries below a path of a snapshot, relative to it, with types and sizes', async () => {
    const entries = await driver.listFiles(repo, fixture.older.id, fixture.projectsPath);

    expect(entries.sort((a, b) => a.path.localeCompare(b.path))).toEqual([
      { path: 'report.txt', type: 'file', size: fixture.older.content['report.txt'].length },
      { path: 'sub', type: 'dir', size: 0 },
      { path: 'sub/data.bin', type: 'file', size: fixture.older.content['sub/data.bin'].length },
      { path: 'sub/deeper', type: 'dir', size: 0 },
      { path: 'sub/deeper/notes.md', type: 'file', size: fixture.older.content['sub/deeper/notes.md'].length },
    ]);
  });

  it('reports an unknown snapshot id as SnapshotNotFound (restic ls itself exits 0)', async () => {
    const failure = await failureOf(driver.listFiles(repo, 'deadbeef', fixture.projectsPath));

    expect(failure.type).toBe(BackupFailureType.snapshotNotFound);
    expect(failure.message).toContain('deadbeef');
  });

  it('reports a path the snapshot does not hold as SnapshotPathMissing', async () => {
    const failure = await failureOf(driver.listFiles(repo, fixture.older.id, path.join(fixture.root, 'elsewhere')));

    expect(failure.type).toBe(BackupFailureType.pathNotInSnapshot);
  });

  it('hashes a file as the snapshot holds it, streamed through restic dump', async () => {
    const expected = createHash('sha256').update(fixture.older.content['sub/data.bin']).digest('hex');

    await expect(driver.fileSha256(repo, fixture.older.id, path.join(fixture.projectsPath, 'sub/data.bin'))).resolves.toBe(expected);
  });

  it('says restic is not installed when the binary does not exist', async () => {
    const failure = await failureOf(new ResticDriver('/nonexistent/restic').check(repo));

    expect(failure.type).toBe(BackupFailureType.toolMissing);
    expect(failure.message).toMatch(/not installed/);
  });
});
