import type { OsFamily, Patch } from '@runbooks/contracts';

/**
 * The shell commands that act on a host of one OS family: configuration, not code. Templates
 * hold `{{placeholder}}`s that `renderCommand` fills with shell-quoted values:
 * - `{{patches}}`: the package specs to install (each rendered with `packageSpec`), space-separated;
 * - `{{packages}}`: the package names alone, space-separated;
 * - `{{sudo}}`: `sudo -n` when the command runs as another user than root, else nothing.
 * Commands run under bash, on the host (ssh) or on the worker (local).
 */
export interface OsCommands {
  /** Prints every installed package as one `name=version` line; must exit 0. */
  snapshot: string;
  /** Upgrades the packages of `{{patches}}` to exactly those versions; must exit 0. */
  patch: string;
  /** Exits 0 when the host is healthy, non-zero otherwise; what it prints becomes the detail. */
  health: string;
  /** Installs the versions of `{{patches}}` (those recorded in a snapshot), downgrading if need be; must exit 0. */
  restore: string;
  /** One package at one version as the package manager names it: `{{package}}` and `{{version}}`. */
  packageSpec: string;
}

/** Package commands of the supported families. A worker may override any of them (config `osCommands`). */
export const DEFAULT_OS_COMMANDS: Readonly<Partial<Record<OsFamily, OsCommands>>> = {
  debian: {
    snapshot: `dpkg-query -W -f='\${db:Status-Abbrev} \${Package}=\${Version}\\n' | awk '$1 == "ii" { print $2 }'`,
    patch:
      '{{sudo}} apt-get update -q && {{sudo}} env DEBIAN_FRONTEND=noninteractive ' +
      'apt-get install -y -q --only-upgrade -o Dpkg::Options::=--force-confold {{patches}}',
    health: 'systemctl is-system-running --wait',
    restore:
      '{{sudo}} env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --allow-downgrades -o Dpkg::Options::=--force-confold {{patches}}',
    packageSpec: '{{package}}={{version}}',
  },
  rhel: {
    snapshot: `rpm -qa --qf '%{NAME}=%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}\\n'`,
    patch: '{{sudo}} dnf -y -q upgrade {{patches}}',
    health: 'systemctl is-system-running --wait',
    // dnf installs exactly the version named, downgrading an installed package if need be.
    restore: '{{sudo}} dnf -y -q install {{patches}}',
    packageSpec: '{{package}}-{{version}}',
  },
};

/** Words that need no quoting in bash. */
const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** One bash word that stands for exactly `value`, whatever it holds. */
export function shellQuote(value: string): string {
  if (SAFE_WORD.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

export interface CommandValues {
  patches?: readonly Patch[];
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
