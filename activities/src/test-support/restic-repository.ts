import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Distinctive, so a test can prove it never leaks into messages or results. */
export const FIXTURE_PASSWORD = 'pw-Zebra-7f3a-never-print-me';
/** Not the default 0755, so a test sees whether a restore keeps the folder's own permissions. */
export const PROJECTS_MODE = 0o750;

/** The content of the restored path in each snapshot (relative path → bytes). */
export type Content = Record<string, Buffer>;

export interface ResticRepositoryFixture {
  /** A temp folder holding the repository, the backed-up source, and room for test output. */
  root: string;
  repoDir: string;
  password: string;
  /** The path tests restore, as it appears inside the snapshots. */
  projectsPath: string;
  /** A sibling whose name holds glob characters (restic --include takes patterns). */
  globNamedPath: string;
  older: { id: string; content: Content };
  newer: { id: string; content: Content };
  /** Runs restic on this repository with its password; returns stdout. */
  restic(args: string[]): string;
  /** A copy of the repository, to damage without spoiling the others' tests. */
  copyRepository(name: string): string;
  /** Pack files that hold only file data: deleting or garbling one breaks `restic check` at once. */
  dataPackFiles(repoDir: string): string[];
  remove(): void;
}

/**
 * A real restic repository with two snapshots of `<root>/source/srv`, taken on 2026-01-01 and
 * 2026-01-02 10:00 UTC by host "demo". Between them the projects folder changed: a file was
 * edited, one deleted, one added. Next to the projects folder: `projects-old` (a name sharing
 * its prefix), `other.txt`, and a glob-named folder, none of which a restore of projects may bring.
 */
export function createResticRepository(): ResticRepositoryFixture {
  const root = mkdtempSync(path.join(os.tmpdir(), 'restic-fixture-'));
  const repoDir = path.join(root, 'repo');
  const srv = path.join(root, 'source', 'srv');
  const projectsPath = path.join(srv, 'projects');
  const globNamedPath = path.join(srv, 'team*[a]');

  const restic = (args: string[], repo = repoDir) =>
    execFileSync('restic', ['--no-cache', '--repo', repo, ...args], {
      env: { ...process.env, RESTIC_PASSWORD: FIXTURE_PASSWORD, TZ: 'UTC' },
      stdio: ['ignore', 'pipe', 'pipe'],
    }).toString('utf8');
  const backup = (time: string): string => {
    const lines = restic(['backup', '--json', '--time', time, '--host', 'demo', srv]).trim().split('\n');
    return (JSON.parse(lines[lines.length - 1]) as { snapshot_id: string }).snapshot_id;
  };

  const olderContent: Content = {
    'report.txt': Buffer.from('quarterly report, first draft\n'),
    'sub/data.bin': randomBytes(300 * 1024),
    'sub/deeper/notes.md': Buffer.from('# notes\n'),
  };
  writeTree(projectsPath, olderContent);
  chmodSync(projectsPath, PROJECTS_MODE);
  writeTree(path.join(srv, 'projects-old'), { 'stale.txt': Buffer.from('stale\n') });
  writeTree(globNamedPath, { 'member.txt': Buffer.from('glob-named folder\n') });
  writeFileSync(path.join(srv, 'other.txt'), 'outside the restored path\n');

  restic(['init']);
  const olderId = backup('2026-01-01 10:00:00');

  const newerContent: Content = {
    'report.txt': Buffer.from('quarterly report, final\n'),
    'sub/deeper/notes.md': olderContent['sub/deeper/notes.md'],
    'added.txt': Buffer.from('added after the first snapshot\n'),
  };
  rmSync(projectsPath, { recursive: true });
  writeTree(projectsPath, newerContent);
  const newerId = backup('2026-01-02 10:00:00');

  return {
    root,
    repoDir,
    password: FIXTURE_PASSWORD,
    projectsPath,
    globNamedPath,
    older: { id: olderId, content: olderContent },
    newer: { id: newerId, content: newerContent },
    restic: (args) => restic(args),
    copyRepository: (name) => {
      const copy = path.join(root, name);
      cpSync(repoDir, copy, { recursive: true });
      return copy;
    },
    dataPackFiles: (repo) => {
      const packs: string[] = [];
      for (const indexId of restic(['list', 'index'], repo).trim().split('\n')) {
        const index = JSON.parse(restic(['cat', 'index', indexId], repo)) as {
          packs: { id: string; blobs: { type: string }[] }[];
        };
        for (const pack of index.packs) {
          if (pack.blobs.every((blob) => blob.type === 'data')) {
            packs.push(path.join(repo, 'data', pack.id.slice(0, 2), pack.id));
          }
        }
      }
      return packs;
    },
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}

export function writeTree(dir: string, content: Content): void {
  mkdirSync(dir, { recursive: true });
  for (const [rel, bytes] of Object.entries(content)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), bytes);
  }
}

/** Every regular file below `dir` with its bytes, to compare whole trees in one assertion. */
export function readTree(dir: string): Content {
  const content: Content = {};
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath, entry.name);
    content[path.relative(dir, full).split(path.sep).join('/')] = readFileSync(full);
  }
  return content;
}
