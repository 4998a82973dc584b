import type { Host } from '@runbooks/contracts';
import { ApplicationFailure } from '@temporalio/common';
import type { CommandTransport } from '../hosts/command-driver';
import { shellQuote } from '../hosts/os-commands';

/** A folder on a host (home drive, Maildir) and how it was left. */
export interface HostFolder {
  host: string;
  path: string;
  /** Owner uid and gid, and the mode in octal, as stat reports them after the change. */
  uid: number;
  gid: number;
  mode: string;
  /** Group ACL entries (getfacl lines `group:<gid>:rwx`); empty when the host has no setfacl. */
  acl: string[];
}

export interface AccessCheck {
  /** The owner could create and remove a file in it. */
  ownerWrites: boolean;
  /** Another unprivileged user (nobody) could not. */
  othersBlocked: boolean;
}

export const FileServerFailureType = { failed: 'FileServerFailed', refused: 'FileServerRefused' } as const;

const COMMAND_TIMEOUT_MS = 120_000;
/** An exit code of our scripts meaning "the folder belongs to someone else": never touched. */
const NOT_OURS = 17;

/**
 * Folders of people on a file-server (or mail) host, through the host drivers' command transport
 * (local on the worker, or ssh): made for a uid with mode 0700 and group ACLs, checked, archived, removed.
 * Every path is `<root>/<username>`; names are validated before they get here and quoted anyway.
 */
export class PersonalFolders {
  constructor(
    private readonly transport: CommandTransport,
    readonly host: Host,
    readonly root: string,
  ) {}

  pathOf(username: string): string {
    return `${this.root}/${username}`;
  }

  /**
   * Makes (or finds, on a retry) the folder owned by uid:gid with mode 0700, with `subfolders`
   * inside (a Maildir's cur, new, tmp), and rwx ACLs (default ones too) for `aclGids`.
   * A folder there already owned by another uid is refused, untouched.
   */
  async create(
    username: string,
    uid: number,
    gid: number,
    options: { aclGids?: number[]; subfolders?: string[] } = {},
  ): Promise<HostFolder> {
    const dir = shellQuote(this.pathOf(username));
    const subs = (options.subfolders ?? []).map((s) => shellQuote(`${this.pathOf(username)}/${s}`));
    const acl = (options.aclGids ?? []).map((g) => `setfacl -m g:${g}:rwx ${dir} && setfacl -d -m g:${g}:rwx ${dir}`);
    const script = [
      'set -e',
      `mkdir -p ${shellQuote(this.root)}`,
      `if [ -e ${dir} ] && [ "$(stat -c %u ${dir})" != ${uid} ]; then echo "owned by uid $(stat -c %u ${dir})" >&2; exit ${NOT_OURS}; fi`,
      `mkdir -p ${dir} ${subs.join(' ')}`,
      `chown -R ${uid}:${gid} ${dir}`,
      `chmod 0700 ${dir} ${subs.join(' ')}`,
      ...(acl.length ? [`if command -v setfacl >/dev/null; then ${acl.join(' && ')}; fi`] : []),
    ].join('\n');
    await this.run(script, `create ${this.pathOf(username)}`);
    return this.describe(username);
  }

  async describe(username: string): Promise<HostFolder> {
    const dir = shellQuote(this.pathOf(username));
    const out = await this.run(
      `set -e\nstat -c '%u %g %a' ${dir}\nif command -v getfacl >/dev/null; then getfacl -pn ${dir} 2>/dev/null | grep -E '^(user|group|other)::|^group:[0-9]+:' || true; fi`,
      `describe ${this.pathOf(username)}`,
    );
    const [stat, ...entries] = out.trim().split('\n');
    const [uid, gid, statMode] = stat.split(' ');
    const acl = entries.filter((e) => /^group:\d+:/.test(e));
    // With named-group ACLs, stat's group bits show the ACL mask: the mode is owner, owning group and others from the ACL.
    const bits = (who: string) => entries.find((e) => e.startsWith(`${who}::`))?.slice(who.length + 2);
    const octal = (rwx: string) => String((rwx[0] === 'r' ? 4 : 0) + (rwx[1] === 'w' ? 2 : 0) + (rwx[2] === 'x' ? 1 : 0));
    const [u, g, o] = [bits('user'), bits('group'), bits('other')];
    const mode = acl.length && u && g && o ? `0${octal(u)}${octal(g)}${octal(o)}` : statMode.padStart(4, '0');
    return { host: this.host.name, path: this.pathOf(username), uid: Number(uid), gid: Number(gid), mode, acl };
  }

  async exists(username: string): Promise<boolean> {
    const out = await this.run(`[ -e ${shellQuote(this.pathOf(username))} ] && echo yes || echo no`, `look for ${this.pathOf(username)}`);
    return out.trim() === 'yes';
  }

  /** Removes the folder when it belongs to `uid` (or is gone already); a folder of another uid is refused. */
  async remove(username: string, uid: number): Promise<boolean> {
    const dir = shellQuote(this.pathOf(username));
    const out = await this.run(
      `set -e\nif [ ! -e ${dir} ]; then echo gone; exit 0; fi\nif [ "$(stat -c %u ${dir})" != ${uid} ]; then echo "owned by uid $(stat -c %u ${dir})" >&2; exit ${NOT_OURS}; fi\nrm -rf -- ${dir}\necho removed`,
      `remove ${this.pathOf(username)}`,
    );
    return out.trim() === 'removed';
  }

  /** Whether the owner can write in the folder and nobody else (uid 65534) can: each tries to create a file as itself. */
  async checkAccess(username: string, uid: number, gid: number): Promise<AccessCheck> {
    const probe = shellQuote(`${this.pathOf(username)}/.runbooks-access-check`);
    const out = await this.run(
      [
        `if setpriv --reuid=${uid} --regid=${gid} --clear-groups sh -c ${shellQuote(`touch ${probe} && rm -f ${probe}`)} 2>/dev/null; then echo owner=yes; else echo owner=no; fi`,
        `if setpriv --reuid=65534 --regid=65534 --clear-groups sh -c ${shellQuote(`touch ${probe}`)} 2>/dev/null; then echo others=yes; rm -f ${probe}; else echo others=no; fi`,
      ].join('\n'),
      `check access to ${this.pathOf(username)}`,
    );
    return { ownerWrites: out.includes('owner=yes'), othersBlocked: out.includes('others=no') };
  }

  /**
   * Archives the folder as `<archiveRoot>/<name>.tar.gz` (tar keeps owners, modes and ACLs) and
   * returns its sha256 and size; a retry overwrites its own half-written archive.
   */
  async archive(username: string, archiveRoot: string, name: string): Promise<{ path: string; sha256: string; bytes: number }> {
    const archive = `${archiveRoot}/${name}.tar.gz`;
    const out = await this.run(
      [
        'set -e -o pipefail',
        `mkdir -p ${shellQuote(archiveRoot)}`,
        `chmod 0700 ${shellQuote(archiveRoot)}`,
        `tar --acls --numeric-owner -czf ${shellQuote(`${archive}.part`)} -C ${shellQuote(this.root)} ${shellQuote(username)}`,
        `mv -f ${shellQuote(`${archive}.part`)} ${shellQuote(archive)}`,
        `sha256sum ${shellQuote(archive)} | cut -d' ' -f1`,
        `stat -c %s ${shellQuote(archive)}`,
      ].join('\n'),
      `archive ${this.pathOf(username)}`,
    );
    const [sha256, bytes] = out.trim().split('\n');
    return { path: archive, sha256, bytes: Number(bytes) };
  }

  /** Writes one small file into the person's folder, owned by them (e.g. a mail `.forward`); undefined content removes it. */
  async writeFile(username: string, name: string, uid: number, gid: number, content: string | undefined): Promise<void> {
    const file = shellQuote(`${this.pathOf(username)}/${name}`);
    const script =
      content === undefined
        ? `rm -f ${file}`
        : `set -e\nprintf '%s\\n' ${shellQuote(content)} > ${file}.part\nchown ${uid}:${gid} ${file}.part\nchmod 0600 ${file}.part\nmv -f ${file}.part ${file}`;
    await this.run(script, `write ${name} in ${this.pathOf(username)}`);
  }

  /** Runs a script as root on the host (sudo -n when the transport logs in as someone else); returns stdout. */
  private async run(script: string, what: string): Promise<string> {
    const command = this.transport.needsSudo(this.host) ? `sudo -n bash -c ${shellQuote(script)}` : script;
    const session = await this.transport.open(this.host);
    try {
      const result = await session.run(command, COMMAND_TIMEOUT_MS);
      if (result.code === 0) return result.stdout;
      const message = `${this.host.name}: ${what} failed (exit ${result.code ?? 'killed'}): ${result.stderr.trim().slice(-300)}`;
      if (result.code === NOT_OURS) throw ApplicationFailure.nonRetryable(message, FileServerFailureType.refused);
      throw ApplicationFailure.retryable(message, FileServerFailureType.failed);
    } finally {
      session.close();
    }
  }
}
