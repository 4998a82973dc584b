import { createHash } from 'node:crypto';
import { createReadStream, type Dirent } from 'node:fs';
import { lstat, readdir, rm } from 'node:fs/promises';
import path from 'node:path';

/** Node types named as `restic ls` names them, so a restored tree compares with its snapshot. */
export type EntryType = 'file' | 'dir' | 'symlink' | 'dev' | 'chardev' | 'fifo' | 'socket';

export interface TreeEntry {
  /** Relative to the listed root, '/'-separated. */
  path: string;
  type: EntryType;
  /** Bytes for files, 0 otherwise. */
  size: number;
}

/** Every entry below `root` (not root itself), depth first; symlinks are listed, not followed. */
export async function listTree(root: string): Promise<TreeEntry[]> {
  const entries: TreeEntry[] = [];
  const visit = async (relDir: string): Promise<void> => {
    const children = await readdir(path.join(root, relDir), { withFileTypes: true });
    for (const child of children) {
      const rel = relDir ? `${relDir}/${child.name}` : child.name;
      const type = entryType(child);
      const size = type === 'file' ? (await lstat(path.join(root, rel))).size : 0;
      entries.push({ path: rel, type, size });
      if (type === 'dir') await visit(rel);
    }
  };
  await visit('');
  return entries;
}

function entryType(dirent: Dirent): EntryType {
  if (dirent.isFile()) return 'file';
  if (dirent.isDirectory()) return 'dir';
  if (dirent.isSymbolicLink()) return 'symlink';
  if (dirent.isBlockDevice()) return 'dev';
  if (dirent.isCharacterDevice()) return 'chardev';
  if (dirent.isFIFO()) return 'fifo';
  return 'socket';
}

/** sha256 of a file's bytes, hex; reading it whole also proves it opens. */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function pathExists(p: string): Promise<boolean> {
  try {
    await lstat(p);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

/** Removes everything inside `dir`, keeping the folder itself; nothing to do when it is absent. */
export async function emptyDirectory(dir: string): Promise<void> {
  if (!(await pathExists(dir))) return;
  for (const name of await readdir(dir)) await rm(path.join(dir, name), { recursive: true, force: true });
}
