import type { ConflictFix, PackageChange, Patch } from '@runbooks/contracts';
import { debianCommands, shellQuote } from './os-commands';

/**
 * The Debian commands of the software-conflict runbook, acting on a host's package root (`''`:
 * the machine itself; a folder: a separate dpkg/apt root as in the tests, see debianCommands).
 *
 * The sandbox is a separate dpkg/apt root prefix on the host, `<root>/var/tmp/runbooks-sandboxes/<id>`:
 * the host's apt sources and preferences, an empty dpkg database, and the packages involved
 * installed there at the host's own versions (from the host's kept .debs when they left the
 * index). It was chosen over a chroot (debootstrap needs a mirror and minutes, and a full copy of
 * the machine) and over a lab clone (no lab host has the user's package set): a prefix holds
 * exactly the versions in question, costs seconds, and is thrown away with one `rm -rf`. Its
 * limit: a package whose maintainer scripts need a full system (dpkg runs them chrooted into the
 * prefix) cannot be installed there. Each fix is tried on a copy of the sandbox, so every trial
 * starts from the host's state.
 */
export class ConflictCommands {
  constructor(private readonly root: string) {}

  /** Where a sandbox lives on the host. */
  sandboxDir(sandboxId: string): string {
    return `${this.root}/var/tmp/runbooks-sandboxes/${sandboxId}`;
  }

  /** Every installed package, one `name=version` line. */
  installed(): string {
    return debianCommands(this.root || undefined).snapshot;
  }

  /** The version apt would install now of each package, `name=version` (none printed when the index has none). */
  candidates(packages: readonly string[]): string {
    const apt = this.aptEnv(this.root);
    return (
      `${apt} apt-get -q update >/dev/null 2>&1; for p in ${packages.map(shellQuote).join(' ')}; do ` +
      `c=$(${apt} apt-cache policy "$p" 2>/dev/null | awk '/Candidate:/ { print $2 }'); ` +
      `if [ -n "$c" ] && [ "$c" != "(none)" ]; then echo "$p=$c"; fi; done`
    );
  }

  /** The host's UTC offset (`date +%z`) on the first line, then dpkg's log (the rotated one first). */
  dpkgLog(): string {
    const log = shellQuote(`${this.root}/var/log/dpkg.log`);
    return `date +%z; cat ${log}.1 ${log} 2>/dev/null; true`;
  }

  listening(): string {
    return `ss -ltnp 2>&1 | head -n 200`;
  }

  /** The journal between two instants (seconds since the epoch) where the host has one; else apt's history. */
  logs(sinceEpoch: number, untilEpoch: number): string {
    const history = shellQuote(`${this.root}/var/log/apt/history.log`);
    return (
      `if command -v journalctl >/dev/null 2>&1 && journalctl -q -n 1 >/dev/null 2>&1; then ` +
      `journalctl -q --no-pager --since=@${sinceEpoch} --until=@${untilEpoch} -p warning -n 200; ` +
      `else echo "(no systemd journal on this host; apt's history follows)"; tail -n 60 ${history} 2>/dev/null; fi; true`
    );
  }

  /** Runs the reproduction against a root; the last line of output is its exit status. */
  reproduce(command: string, root = this.root): string {
    return `RUNBOOK_ROOT=${shellQuote(root)} bash -c ${shellQuote(command)} 2>&1 | tail -n 40; echo "exit=\${PIPESTATUS[0]}"`;
  }

  /** A fresh sandbox holding `packages` at the given versions. */
  createSandbox(sandboxId: string, packages: readonly Patch[]): string {
    const dir = this.sandboxDir(sandboxId);
    const at = (sub: string) => shellQuote(`${this.root}${sub}`);
    const specs = packages.map((p) => shellQuote(`${p.package}=${p.version}`)).join(' ');
    return [
      `set -e`,
      `S=${shellQuote(dir)}`,
      `rm -rf "$S"`,
      `mkdir -p "$S"/etc/apt/apt.conf.d "$S"/etc/apt/preferences.d "$S"/etc/apt/sources.list.d "$S"/etc/apt/trusted.gpg.d ` +
        `"$S"/var/lib/dpkg/info "$S"/var/lib/dpkg/updates "$S"/var/lib/apt/lists/partial "$S"/var/cache/apt/archives/partial "$S"/var/log/apt`,
      `: > "$S"/var/lib/dpkg/status`,
      // The host's sources, keys and pins: the sandbox sees the same index the host does.
      `for f in sources.list trusted.gpg; do if [ -f ${at('/etc/apt/')}"$f" ]; then cp ${at('/etc/apt/')}"$f" "$S"/etc/apt/; fi; done`,
      `for d in sources.list.d preferences.d trusted.gpg.d; do if [ -d ${at('/etc/apt/')}"$d" ]; then cp -a ${at('/etc/apt/')}"$d"/. "$S"/etc/apt/"$d"/; fi; done`,
      this.writeAptConf('"$S"'),
      `${this.aptEnv('$S')} apt-get -q update >/dev/null`,
      this.findDeb(),
      `debs=(); for spec in ${specs}; do deb=$(find_deb "$spec"); debs+=("\${deb:-$spec}"); done`,
      `${this.aptEnv('$S')} apt-get -q install -y --allow-downgrades -o Dpkg::Options::=--force-confold "\${debs[@]}"`,
    ].join('\n');
  }

  /** Copies the sandbox, applies `fix` to the copy, runs the reproduction there, and removes the copy. */
  trial(sandboxId: string, trial: number, fix: ConflictFix, command: string): string {
    const copy = `${this.sandboxDir(sandboxId)}-trial-${trial}`;
    return [
      `T=${shellQuote(copy)}`,
      `rm -rf "$T" && cp -a ${shellQuote(this.sandboxDir(sandboxId))} "$T" || exit 90`,
      this.writeAptConf('"$T"'),
      `( ${this.applyFix(fix, '$T')} ) > "$T.apply.log" 2>&1; applied=$?`,
      `if [ $applied -ne 0 ]; then tail -n 20 "$T.apply.log"; rm -rf "$T" "$T.apply.log"; echo "applied=no"; exit 0; fi`,
      `RUNBOOK_ROOT="$T" bash -c ${shellQuote(command)} 2>&1 | tail -n 40; status=\${PIPESTATUS[0]}`,
      `rm -rf "$T" "$T.apply.log"`,
      `echo "applied=yes"; echo "exit=$status"`,
    ].join('\n');
  }

  discardSandbox(sandboxId: string): string {
    const dir = shellQuote(this.sandboxDir(sandboxId));
    return `rm -rf ${dir} ${dir}-trial-*`;
  }

  /** Applies a fix to a root (default: the host's): apt for versions, dpkg selections for the hold. */
  applyFix(fix: ConflictFix, root = this.root): string {
    const apt = `${this.aptEnv(root)} apt-get -q`;
    const install = `${apt} install -y --allow-downgrades --allow-change-held-packages -o Dpkg::Options::=--force-confold`;
    const pkg = shellQuote(fix.package);
    switch (fix.action) {
      case 'update':
        return `${apt} update >/dev/null && ${install} ${shellQuote(`${fix.package}=${fix.version}`)}`;
      case 'rollback': {
        const spec = shellQuote(`${fix.package}=${fix.version}`);
        // The version before the change has usually left the index: the host's kept .debs first.
        const hold = fix.hold ? ` && echo ${pkg} hold | ${this.dpkg(root)} --set-selections` : '';
        return `${this.findDeb()}\ndeb=$(find_deb ${spec}); ${install} "\${deb:-${spec}}"${hold}`;
      }
      case 'remove':
        return `${apt} remove -y ${pkg}`;
    }
  }

  /** Lifts a hold the fix put on a package, so the snapshot's version can go back. */
  releaseHold(fix: ConflictFix): string {
    return fix.action === 'rollback' && fix.hold
      ? `echo ${shellQuote(fix.package)} install | ${this.dpkg(this.root)} --set-selections`
      : 'true';
  }

  /**
   * `find_deb name=version`: the .deb of that version the host kept, in apt's cache or a
   * runbook snapshot's folder (the sandbox's own first), as apt names it (an epoch's colon as %3a).
   */
  private findDeb(): string {
    const dirs = [`${this.root}/var/cache/apt/archives`, `${this.root}/var/cache/runbooks/snapshots/*`];
    return (
      `find_deb() { local name="\${1%%=*}" v="\${1#*=}"; v="\${v//:/%3a}"; ` +
      `ls ${dirs.map((d) => `${d.split('*').map(shellQuote).join('*')}/"\${name}_\${v}"_*.deb`).join(' ')} 2>/dev/null | head -n 1; }`
    );
  }

  /** apt's configuration for a separate root: everything under it, dpkg (and its log) rooted there. */
  private writeAptConf(dir: string): string {
    return (
      `printf 'Dir "%s/";\\nDPkg::Options { "--root=%s"; "--log=%s/var/log/dpkg.log"; };\\nAPT::Sandbox::User "root";\\n' ` +
      `${dir} ${dir} ${dir} > ${dir}/etc/apt/apt.conf`
    );
  }

  /** The environment apt runs in for a root (`$S`-style shell words are passed through unquoted). */
  private aptEnv(root: string): string {
    const conf = root.startsWith('$') ? `"${root}/etc/apt/apt.conf"` : shellQuote(`${root}/etc/apt/apt.conf`);
    return `env DEBIAN_FRONTEND=noninteractive${root ? ` APT_CONFIG=${conf}` : ''}`;
  }

  private dpkg(root: string): string {
    if (!root) return 'dpkg';
    return root.startsWith('$') ? `dpkg --root="${root}"` : `dpkg --root=${shellQuote(root)}`;
  }
}

/** One line of dpkg's log that changed a package: `2026-11-30 21:15:09 upgrade rb-lib:all 1.0-1 2.0-1`. */
const DPKG_CHANGE = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}) (install|upgrade|remove) ([^\s:]+)(?::\S+)? (\S+) (\S+)$/;

/** The changes in dpkg's log (as `dpkgLog` prints it) between two instants, oldest first. */
export function parseDpkgLog(output: string, since: Date, until: Date): PackageChange[] {
  const [offsetLine, ...lines] = output.split('\n');
  const offset = /^([+-])(\d{2})(\d{2})$/.exec(offsetLine.trim());
  const offsetIso = offset ? `${offset[1]}${offset[2]}:${offset[3]}` : 'Z';
  const changes: PackageChange[] = [];
  for (const line of lines) {
    const match = DPKG_CHANGE.exec(line.trim());
    if (!match) continue;
    const [, day, time, action, name, from, to] = match;
    const at = new Date(`${day}T${time}${offsetIso}`);
    if (at < since || at > until) continue;
    changes.push({
      at: at.toISOString(),
      action: action as 'install' | 'upgrade' | 'remove',
      package: name,
      from: from === '<none>' ? null : from,
      to: to === '<none>' ? null : to,
    });
  }
  return changes;
}
