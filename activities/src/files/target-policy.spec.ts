import { SYSTEM_FOLDERS, restoreTargetRefusal } from '@runbooks/contracts';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { canonicalPath } from './target-policy';

describe('canonicalPath', () => {
  it('resolves symlinks in the longest existing prefix and keeps the missing rest', async () => {
    const root = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'canonical-')));
    try {
      await fs.mkdir(path.join(root, 'real'));
      await fs.symlink(path.join(root, 'real'), path.join(root, 'link'));
      expect(await canonicalPath(path.join(root, 'link', 'not', 'yet'))).toBe(path.join(root, 'real', 'not', 'yet'));
      expect(await canonicalPath(path.join(root, 'real'))).toBe(path.join(root, 'real'));
    } finally {
      await fs.rm(root, { recursive: true, force: true });
    }
  });
});

describe('restoreTargetRefusal', () => {
  const policy = { rules: [{ repository: 'repo', roots: ['/srv/shares', '/data/svc/demo/fileserver'] }] };
  const neverAllowed = { systemFolders: SYSTEM_FOLDERS, serviceData: { dirs: ['/data/svc'], except: ['/data/svc/demo/fileserver'] } };
  const refusal = (target: string, repository = 'repo') => restoreTargetRefusal(policy, { repository, target }, neverAllowed);

  it('allows a root and anything under it, for the repository the rule names only', () => {
    expect(refusal('/srv/shares')).toBeUndefined();
    expect(refusal('/srv/shares/projects')).toBeUndefined();
    expect(refusal('/srv/shares-other')).toMatch(/outside the roots/);
    expect(refusal('/srv/shares/projects', 'another')).toMatch(/no restore target policy names the repository another/);
  });

  it('refuses system folders and the data folder (in, at or above it) whatever the policy says, but the demo file server', () => {
    const open = { rules: [{ repository: 'repo', roots: ['/'] }] };
    expect(restoreTargetRefusal(open, { repository: 'repo', target: '/' }, neverAllowed)).toMatch(/system folder/);
    expect(restoreTargetRefusal(open, { repository: 'repo', target: '/usr/local/x' }, neverAllowed)).toMatch(
      /inside the system folder \/usr/,
    );
    expect(restoreTargetRefusal(open, { repository: 'repo', target: '/data' }, neverAllowed)).toMatch(/service's own data folder/);
    expect(restoreTargetRefusal(open, { repository: 'repo', target: '/data/svc/secrets' }, neverAllowed)).toMatch(/data folder/);
    expect(refusal('/data/svc/demo/fileserver/srv/projects')).toBeUndefined();
  });
});
