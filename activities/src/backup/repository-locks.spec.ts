import { spawn } from 'node:child_process';
import os from 'node:os';
import { createResticRepository, type ResticRepositoryFixture } from '../test-support/restic-repository';
import { lockHolder, staleness, STALE_LOCK_AGE_MS } from './repository-locks';
import { ResticDriver, type BackupRepositoryAccess } from './restic';

/** A PID no process has: beyond the kernel's default pid_max. */
const NO_SUCH_PID = 4_194_304 + 7;

describe('stale restic locks', () => {
  it('a lock made on this machine by a process that no longer runs is stale; by a running one, not', () => {
    expect(staleness(os.hostname(), NO_SUCH_PID, 1_000)).toBe(`its process (PID ${NO_SUCH_PID} on ${os.hostname()}) no longer runs`);
    expect(staleness(os.hostname(), process.pid, 1_000)).toBeUndefined();
  });

  it('a lock made on another machine is stale only once restic would say so: 30 minutes without refresh', () => {
    expect(staleness('elsewhere', NO_SUCH_PID, 60_000)).toBeUndefined();
    expect(staleness('elsewhere', NO_SUCH_PID, STALE_LOCK_AGE_MS + 60_000)).toBe('not refreshed for 31 minutes');
  });

  it("reads the holder from restic's refusal, with the lock's age", () => {
    const refusal = (pid: number, host: string, age: string) =>
      `unable to create lock in backend: repository is already locked exclusively by PID ${pid} on ${host} by root (UID 0, GID 0); lock was created at 2026-11-30 17:58:04 (${age} ago); storage ID 76e1009e`;
    expect(lockHolder(refusal(NO_SUCH_PID, os.hostname(), '490.4ms'))).toEqual({ pid: NO_SUCH_PID, hostname: os.hostname(), stale: true });
    expect(lockHolder(refusal(process.pid, os.hostname(), '490.4ms'))).toMatchObject({ stale: false });
    expect(lockHolder(refusal(1, 'elsewhere', '5m3.2s'))).toMatchObject({ stale: false });
    expect(lockHolder(refusal(1, 'elsewhere', '1h2m0s'))).toMatchObject({ stale: true });
    expect(lockHolder('some other failure')).toBeUndefined();
  });
});

describe('ResticDriver and repository locks, against real restic', () => {
  let fixture: ResticRepositoryFixture;
  let repo: BackupRepositoryAccess;
  const driver = new ResticDriver(undefined, undefined, { lockRetryMs: { initial: 100, max: 500 } });

  beforeAll(() => {
    fixture = createResticRepository();
    repo = { url: fixture.repoDir, password: fixture.password };
  });
  afterAll(() => fixture.remove());

  /** A restic restore slowed down (download capped), so it holds its lock for a few seconds. */
  function slowRestore(target: string) {
    return spawn(
      'restic',
      ['--no-cache', '--repo', fixture.repoDir, '--limit-download', '64', 'restore', fixture.older.id, '--target', target],
      { env: { ...process.env, RESTIC_PASSWORD: fixture.password }, stdio: 'ignore' },
    );
  }

  async function untilLocked(): Promise<void> {
    for (let i = 0; i < 100 && (await driver.listLocks(repo)).length === 0; i++) await new Promise((r) => setTimeout(r, 50));
  }

  it('check waits for a live lock to go instead of failing, and removes none', async () => {
    const restore = slowRestore(`${fixture.root}/out-live`);
    const exited = new Promise((resolve) => restore.once('exit', resolve));
    await untilLocked();
    expect(await driver.removeStaleLocks(repo)).toEqual([]); // a running restic's lock is not stale

    await expect(driver.check(repo)).resolves.toBeUndefined();
    expect(restore.exitCode).toBe(0); // check ran only once the restore was done with its lock
    await exited;
  });

  it('removes the lock a killed restic left behind, saying whose it was', async () => {
    const restore = slowRestore(`${fixture.root}/out-killed`);
    const exited = new Promise((resolve) => restore.once('exit', resolve));
    await untilLocked();
    restore.kill('SIGKILL');
    await exited;
    expect(await driver.listLocks(repo)).toHaveLength(1);

    const removed = await driver.removeStaleLocks(repo);

    expect(removed).toEqual([
      expect.objectContaining({
        pid: restore.pid,
        hostname: os.hostname(),
        why: `its process (PID ${restore.pid} on ${os.hostname()}) no longer runs`,
      }),
    ]);
    expect(await driver.listLocks(repo)).toEqual([]);
  });
});
