import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { debianCommands, parsePackageVersions, renderCommand } from './os-commands';

/** One version of a package of the local repository: it installs `/usr/bin/<name>`, which prints its version and exits `exitCode`. */
export interface AptPackage {
  name: string;
  version: string;
  /** Non-zero makes a broken release: its program fails, so a health check that runs it fails. */
  exitCode?: number;
  /** Replaces the default program's script (a library's user, a service). */
  program?: string;
  /** More files, by path under the root (`usr/lib/<name>/lib.sh`), with their content. */
  files?: Record<string, string>;
  /** The control file's Depends. */
  depends?: string;
}

export interface AptRepositoryFixture {
  /** The temp folder holding the repository (`repo/`) and the package roots. */
  dir: string;
  /** Removes one version's .deb from the repository and re-indexes it, as a mirror drops a superseded version. */
  drop(name: string, version: string): void;
  /**
   * A fresh package root: an empty dpkg database and an apt configuration whose only source is this
   * repository, then `install` installed with the real apt through the default Debian templates.
   */
  packageRoot(name: string, install: { package: string; version: string }[]): string;
  /** Installs (upgrades, downgrades) packages in a root with apt, as an administrator would; dpkg logs it in the root. */
  install(root: string, install: { package: string; version: string }[]): void;
  /** The packages installed in a root, `name → version`, as the default snapshot template lists them. */
  installed(root: string): Map<string, string>;
  remove(): void;
}

/**
 * A real apt repository in `folder` (default: a new temp folder), for the tests and the demo: the given package versions built with `dpkg-deb`, indexed
 * with `apt-ftparchive` (package apt-utils), served as a `copy:` source to package roots beside it.
 * apt and dpkg act on those roots only (see debianCommands), never on the machine's own packages.
 */
export function createAptRepository(packages: AptPackage[], folder?: string): AptRepositoryFixture {
  if (process.getuid?.() !== 0) {
    throw new Error('a local apt repository needs root (CI runs as root): dpkg installs only as root, even into a separate package root');
  }
  for (const tool of ['dpkg-deb', 'apt-ftparchive', 'apt-get']) {
    try {
      execFileSync('bash', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      throw new Error(`${tool} is missing: a local apt repository needs dpkg and apt-utils (apt-get install apt-utils)`);
    }
  }
  const dir = folder ?? mkdtempSync(path.join(os.tmpdir(), 'apt-repository-'));
  mkdirSync(dir, { recursive: true });
  const repo = path.join(dir, 'repo');
  mkdirSync(repo);
  for (const p of packages) buildPackage(dir, repo, p);
  const index = () => {
    const listing = execFileSync('apt-ftparchive', ['packages', '.'], { cwd: repo });
    writeFileSync(path.join(repo, 'Packages'), listing);
  };
  index();

  const bash = (script: string) => execFileSync('bash', ['-c', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return {
    dir,
    drop(name, version) {
      rmSync(path.join(repo, `${name}_${version}_all.deb`));
      index();
    },
    packageRoot(name, install) {
      const root = path.join(dir, 'roots', name);
      for (const sub of [
        'etc/apt/apt.conf.d',
        'etc/apt/preferences.d',
        'etc/apt/sources.list.d',
        'var/lib/dpkg/info',
        'var/lib/dpkg/updates',
        'var/lib/apt/lists/partial',
        'var/cache/apt/archives/partial',
        'var/log/apt',
      ]) {
        mkdirSync(path.join(root, sub), { recursive: true });
      }
      writeFileSync(path.join(root, 'var/lib/dpkg/status'), '');
      // copy:, not file:: apt then keeps what it installs in its cache, as it does from a real mirror
      // (a rollback after a plain `apt-get upgrade` finds the previous .deb there).
      writeFileSync(path.join(root, 'etc/apt/sources.list'), `deb [trusted=yes] copy:${repo} ./\n`);
      // Read through APT_CONFIG: apt then takes its parts and sources from the root, and hands dpkg the root.
      // Downloads run as root: apt's sandbox user (_apt) may not reach a private temp folder.
      writeFileSync(
        path.join(root, 'etc/apt/apt.conf'),
        // dpkg logs into the root too (its default log is the machine's /var/log/dpkg.log).
        [
          `Dir "${root}/";`,
          `DPkg::Options { "--root=${root}"; "--log=${root}/var/log/dpkg.log"; };`,
          'APT::Sandbox::User "root";',
          '',
        ].join('\n'),
      );
      aptIn(root, ['update']);
      if (install.length > 0) aptIn(root, ['install', '-y', ...install.map((p) => `${p.package}=${p.version}`)]);
      return root;
    },
    install(root, install) {
      aptIn(root, ['update']);
      aptIn(root, ['install', '-y', ...install.map((p) => `${p.package}=${p.version}`)]);
    },
    installed(root) {
      const commands = debianCommands(root);
      return parsePackageVersions(bash(renderCommand(commands.snapshot, commands, { sudo: false })));
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs apt-get on a package root (its apt.conf read through APT_CONFIG). */
function aptIn(root: string, args: string[]): void {
  execFileSync('apt-get', ['-q', ...args], {
    env: { ...process.env, APT_CONFIG: path.join(root, 'etc/apt/apt.conf'), DEBIAN_FRONTEND: 'noninteractive' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function buildPackage(dir: string, repo: string, p: AptPackage): void {
  const tree = path.join(dir, 'build', `${p.name}_${p.version}`);
  mkdirSync(path.join(tree, 'DEBIAN'), { recursive: true });
  mkdirSync(path.join(tree, 'usr/bin'), { recursive: true });
  writeFileSync(
    path.join(tree, 'DEBIAN/control'),
    [
      `Package: ${p.name}`,
      `Version: ${p.version}`,
      'Architecture: all',
      'Maintainer: Runbooks tests <tests@example.invalid>',
      `Description: test package ${p.name} ${p.version}`,
      ...(p.depends ? [`Depends: ${p.depends}`] : []),
      '',
    ].join('\n'),
  );
  const program = path.join(tree, 'usr/bin', p.name);
  writeFileSync(program, p.program ?? `#!/bin/sh\necho "${p.name} ${p.version}"\nexit ${p.exitCode ?? 0}\n`);
  chmodSync(program, 0o755);
  for (const [file, content] of Object.entries(p.files ?? {})) {
    mkdirSync(path.dirname(path.join(tree, file)), { recursive: true });
    writeFileSync(path.join(tree, file), content);
  }
  execFileSync('dpkg-deb', ['-Zgzip', '--root-owner-group', '--build', tree, path.join(repo, `${p.name}_${p.version}_all.deb`)], {
    stdio: 'ignore',
  });
}
