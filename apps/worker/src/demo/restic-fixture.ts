import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Makes real restic repositories with snapshots at chosen times: the demo repository of the
 * embedded default and the repositories of the integration tests are made the same way.
 */
export class ResticFixture {
  constructor(
    readonly repository: string,
    private readonly password: string,
  ) {}

  static async init(repository: string, password: string): Promise<ResticFixture> {
    const fixture = new ResticFixture(repository, password);
    await fs.mkdir(path.dirname(repository), { recursive: true });
    await fixture.restic(['init']);
    return fixture;
  }

  /** Backs up `dir` as it is now, recording the snapshot as taken at `time`. Returns the snapshot id. */
  async backup(dir: string, time: Date, host = 'fileserver-01'): Promise<string> {
    const stamp = time.toISOString().replace('T', ' ').slice(0, 19);
    const { stdout } = await this.restic(['backup', '--json', '--host', host, '--time', stamp, dir]);
    const summary = stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { message_type: string; snapshot_id?: string })
      .find((m) => m.message_type === 'summary');
    if (!summary?.snapshot_id) throw new Error(`restic backup of ${dir} printed no snapshot id`);
    return summary.snapshot_id;
  }

  private restic(args: string[]) {
    return run('restic', ['--repo', this.repository, '--no-cache', ...args], {
      env: { ...process.env, RESTIC_PASSWORD: this.password },
      maxBuffer: 64 * 1024 * 1024,
    });
  }
}

/** Writes a folder of files: `{ 'a.txt': 'content', 'sub/b.txt': '...' }`. */
export async function writeTree(root: string, files: Record<string, string | Buffer>): Promise<void> {
  await fs.rm(root, { recursive: true, force: true });
  for (const [rel, content] of Object.entries(files)) {
    const file = path.join(root, rel);
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, content);
  }
}

/** Reads a folder back as `{ relPath: content }`, for comparisons in tests and checks. */
export async function readTree(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  async function walk(dir: string): Promise<void> {
    for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else out[path.relative(root, full)] = await fs.readFile(full, 'utf8');
    }
  }
  await walk(root);
  return out;
}
