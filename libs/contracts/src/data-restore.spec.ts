import { chooseRestorePoint, dataRestoreInputSchema, type SnapshotSummary } from './data-restore';

const snap = (id: string, time: string, paths = ['/srv/projects']): SnapshotSummary => ({
  id: id.padEnd(64, '0'),
  shortId: id.slice(0, 8),
  time,
  hostname: 'fs01',
  paths,
  tags: [],
});

const snapshots = [
  snap('aaaaaaaa', '2026-11-01T22:00:00Z'),
  snap('bbbbbbbb', '2026-11-08T22:00:00Z'),
  snap('cccccccc', '2026-11-15T22:00:00Z'),
  snap('dddddddd', '2026-11-09T22:00:00Z', ['/home']),
];

describe('chooseRestorePoint', () => {
  test('picks the newest snapshot of the path taken before the given time', () => {
    expect(chooseRestorePoint(snapshots, { path: '/srv/projects', before: '2026-11-10T00:00:00Z' })).toEqual({ snapshot: snapshots[1] });
  });

  test('accepts a path inside a backed-up folder', () => {
    expect(chooseRestorePoint(snapshots, { path: '/srv/projects/budget', before: '2026-11-02T00:00:00Z' })).toEqual({
      snapshot: snapshots[0],
    });
  });

  test('does not treat a sibling with a common prefix as covered', () => {
    expect(chooseRestorePoint(snapshots, { path: '/srv/projects-old', before: '2026-12-01T00:00:00Z' })).toEqual({
      refusal: 'no snapshot of /srv/projects-old was taken before 2026-12-01T00:00:00Z',
    });
  });

  test('refuses when every snapshot is newer than the given time', () => {
    expect(chooseRestorePoint(snapshots, { path: '/srv/projects', before: '2026-10-01T00:00:00Z' })).toEqual({
      refusal: 'no snapshot of /srv/projects was taken before 2026-10-01T00:00:00Z',
    });
  });

  test('finds a named snapshot by its short id', () => {
    expect(chooseRestorePoint(snapshots, { path: '/srv/projects', snapshotId: 'cccccccc', before: '2026-01-01T00:00:00Z' })).toEqual({
      snapshot: snapshots[2],
    });
  });

  test('refuses a named snapshot that does not hold the path', () => {
    const choice = chooseRestorePoint(snapshots, { path: '/srv/projects', snapshotId: 'dddddddd', before: '2026-12-01T00:00:00Z' });
    expect(choice).toEqual({ refusal: 'snapshot dddddddd does not contain /srv/projects (it holds /home)' });
  });

  test('refuses an unknown snapshot id', () => {
    expect(chooseRestorePoint(snapshots, { path: '/srv/projects', snapshotId: 'eeeeeeee', before: '2026-12-01T00:00:00Z' })).toEqual({
      refusal: 'no snapshot with id eeeeeeee in the repository',
    });
  });
});

describe('dataRestoreInputSchema', () => {
  const valid = {
    repository: { url: '/backups/projects', passwordRef: 'secret:backup/projects' },
    path: '/srv/projects',
    target: '/srv/projects',
    affectedUsers: ['jane@example.test'],
  };

  test('fills the approval policy defaults', () => {
    expect(dataRestoreInputSchema.parse(valid).approval).toEqual({ timeoutSeconds: 3600, escalationContact: '2nd-line on-call' });
  });

  test('refuses a literal password where a secret reference belongs, naming the field', () => {
    const result = dataRestoreInputSchema.safeParse({ ...valid, repository: { url: '/b', passwordRef: 'hunter2' } });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0].path).toEqual(['repository', 'passwordRef']);
    expect(result.error?.issues[0].message).toContain('secret reference');
  });

  test('refuses a relative or escaping target path', () => {
    expect(dataRestoreInputSchema.safeParse({ ...valid, target: 'srv/projects' }).error?.issues[0].path).toEqual(['target']);
    expect(dataRestoreInputSchema.safeParse({ ...valid, target: '/srv/../etc' }).error?.issues[0].message).toContain("'..'");
  });

  test('refuses snapshotId together with before', () => {
    const result = dataRestoreInputSchema.safeParse({ ...valid, snapshotId: 'abcdef12', before: '2026-11-01T00:00:00Z' });
    expect(result.error?.issues[0]).toMatchObject({ path: ['before'], message: 'give either snapshotId or before, not both' });
  });
});
