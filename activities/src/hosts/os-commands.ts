import type { HostHealthChecks, OsFamily, Patch } from '@runbooks/contracts';

/**
 * The shell commands that act on a host of one OS family: configuration, not code. Templates
 * hold `{{placeholder}}`s that `renderCommand` fills with shell-quoted values:
 * - `{{patches}}`: the package specs to install (each rendered with `packageSpec`), space-separated;
 * - `{{packages}}`: the package names alone, space-separated;
 * - `{{sudo}}`: `sudo -n` when the command runs as another user than root, else nothing;
 * - `{{snapshotId}}`: the snapshot being taken or restored (16 hex digits);
 * - `{{units}}`, `{{checks}}`: the host's service units and check commands (inventory `health`), space-separated.
 * Commands run under bash, on the host (ssh) or on the worker (local).
 */
export interface OsCommands {
  /** Prints every installed package as one `name=version` line; must exit 0. */
  snapshot: string;
  /**
   * Keeps on the host what `restore` needs to put back the versions of `{{patches}}` (installed
   * now) under snapshot `{{snapshotId}}`, so a rollback works after they leave the index; must exit 0.
   */
  keepPackages?: string;
  /** Upgrades the packages of `{{patches}}` to exactly those versions; must exit 0. */
  patch: string;
  /** Exits 0 when the host's services are healthy, non-zero otherwise; what it prints becomes the detail. */
  health: string;
  /** Installs the versions of `{{patches}}` (those recorded in snapshot `{{snapshotId}}`), downgrading if need be; must exit 0. */
  restore: string;
  /** One package at one version as the package manager names it: `{{package}}` and `{{version}}`. */
  packageSpec: string;
  /** The separate package root the commands act on (tests); unset: the machine's own packages. */
  packageRoot?: string;
}

/** Words that need no quoting in bash. */
const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** One bash word that stands for exactly `value`, whatever it holds. */
export function shellQuote(value: string): string {
  if (SAFE_WORD.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Runs each unit and check of `{{units}}` / `{{checks}}`; fails when any fails, naming it. */
const SERVICE_CHECKS =
  'failed=0; for unit in {{units}}; do if state=$(systemctl is-active "$unit"); then echo "$unit: $state"; ' +
  'else echo "$unit: $state" >&2; failed=1; fi; done; ' +
  'for check in {{checks}}; do if out=$(bash -c "$check" 2>&1); then echo "passed: $check"; ' +
  'else echo "failed: $check: $out" >&2; failed=1; fi; done; exit $failed';

/**
 * The Debian commands, apt and dpkg acting on the machine itself (`root` unset) or, for tests, on
 * a separate package root: `<root>/etc/apt/apt.conf` sets `Dir` and dpkg's `--root` there (read
 * through APT_CONFIG, so the machine's own apt configuration and hooks are not), and the
 * dpkg database is `<root>/var/lib/dpkg`. Nothing else differs between the two.
 */
export function debianCommands(root?: string): OsCommands {
  const at = (dir: string) => shellQuote(`${root ?? ''}${dir}`);
  const apt = `{{sudo}} env DEBIAN_FRONTEND=noninteractive${root ? ` APT_CONFIG=${at('/etc/apt/apt.conf')}` : ''} apt-get -q`;
  const dpkg = root ? `dpkg --root=${at('')}` : 'dpkg';
  const dpkgQuery = root ? `dpkg-query --admindir=${at('/var/lib/dpkg')}` : 'dpkg-query';
  const kept = at('/var/cache/runbooks/snapshots/') + '{{snapshotId}}';
  // The .deb of one `name=version` spec as apt names it (an epoch's colon becomes %3a).
  const debName = '"${spec%%=*}_$(v="${spec#*=}"; echo "${v//:/%3a}")"_*.deb';
  return {
    // Installed whatever its selection: `ii`, and `hi` for a held package (a held package is still installed).
    snapshot: `${dpkgQuery} -W -f='\${db:Status-Abbrev} \${Package}=\${Version}\\n' | awk 'substr($1, 2, 1) == "i" { print $2 }'`,
    // From apt's own cache when it still holds the installed .deb, else from the index (still listing it now).
    keepPackages:
      `{{sudo}} mkdir -p ${kept} && cd ${kept} && for spec in {{patches}}; do ` +
      `cached=$(ls ${at('/var/cache/apt/archives/')}${debName} 2>/dev/null | head -n 1); ` +
      `if [ -n "$cached" ]; then {{sudo}} cp "$cached" . || exit 1; ` +
      `else ${apt} download "$spec" || { echo "cannot keep $spec for a rollback: no .deb in apt's cache or index" >&2; exit 1; }; fi; done`,
    patch: `${apt} update && ${apt} install -y --only-upgrade -o Dpkg::Options::=--force-confold {{patches}}`,
    health: `audit=$(${dpkg} --audit 2>&1); if [ -n "$audit" ]; then echo "dpkg --audit: $audit" >&2; exit 1; fi; ` + SERVICE_CHECKS,
    // The .debs kept at snapshot time first: the old versions have usually left the index.
    restore:
      `debs=(); for spec in {{patches}}; do kept_deb=$(ls ${kept}/${debName} 2>/dev/null | head -n 1); debs+=("\${kept_deb:-$spec}"); done; ` +
      `${apt} install -y --allow-downgrades -o Dpkg::Options::=--force-confold "\${debs[@]}"`,
    packageSpec: '{{package}}={{version}}',
    ...(root ? { packageRoot: root } : {}),
  };
}

/** Package commands of the supported families. A worker may override any of them (config `osCommands`). */
export const DEFAULT_OS_COMMANDS: Readonly<Partial<Record<OsFamily, OsCommands>>> = {
  debian: debianCommands(),
  rhel: {
    snapshot: `rpm -qa --qf '%{NAME}=%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}\\n'`,
    patch: '{{sudo}} dnf -y -q upgrade {{patches}}',
    health: SERVICE_CHECKS,
    // dnf installs exactly the version named, downgrading an installed package if need be.
    restore: '{{sudo}} dnf -y -q install {{patches}}',
    packageSpec: '{{package}}-{{version}}',
  },
};

export interface CommandValues {
  patches?: readonly Patch[];
  snapshotId?: string;
  /** The host's own health checks (inventory `health`); none when absent. */
  health?: HostHealthChecks;
  /** Whether `{{sudo}}` renders as `sudo -n`. */
  sudo: boolean;
}

/**
 * The one place a template becomes a command line. Every value enters shell-quoted; a placeholder
 * the template names but the call does not provide is a configuration error.
 */
export function renderCommand(template: string, commands: Pick<OsCommands, 'packageSpec'>, values: CommandValues): string {
  const patches = values.patches ?? [];
  const filled: Record<string, string | undefined> = {
    sudo: values.sudo ? 'sudo -n' : '',
    patches:
      values.patches && patches.map((p) => shellQuote(fill(commands.packageSpec, { package: p.package, version: p.version }))).join(' '),
    packages: values.patches && patches.map((p) => shellQuote(p.package)).join(' '),
    snapshotId: values.snapshotId,
    units: (values.health?.units ?? []).map(shellQuote).join(' '),
    checks: (values.health?.commands ?? []).map(shellQuote).join(' '),
  };
  return fill(template, filled);
}

function fill(template: string, values: Record<string, string | undefined>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`the command template "${template}" names {{${name}}}, which has no value here`);
    return value;
  });
}

/** The one place a snapshot command's output is read: `name=version` lines (others are ignored). */
export function parsePackageVersions(stdout: string): Map<string, string> {
  const versions = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const match = /^([^=\s]+)=(\S+)$/.exec(line.trim());
    if (match) versions.set(match[1], match[2]);
  }
  return versions;
}

/** Whether an installed version is the wanted one (`1.2-3` also satisfies a wanted `1.2` without its release). */
export function versionMatches(installed: string | undefined, wanted: string): boolean {
  return installed !== undefined && (installed === wanted || installed.startsWith(`${wanted}-`));
}
