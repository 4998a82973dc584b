import { execFileSync } from 'node:child_process';
import path from 'node:path';

/**
 * Issue 8 item 6: the API loads no driver code. It shares stores, secrets and window logic with the
 * worker (`@runbooks/activities/api-surface`, `@runbooks/maintenance`), never the activities' index,
 * which loads ssh2, the restic driver and the host drivers. Checked on the built modules, in a
 * fresh Node process (jest's own module registry maps packages to their sources).
 */
const repoRoot = path.resolve(__dirname, '..', '..', '..');

/** Modules acting on the world: the SSH library, the restic driver, the host drivers. */
const DRIVERS = [
  /\/node_modules\/ssh2\//,
  /\/activities\/dist\/backup\/restic\.js$/,
  /\/activities\/dist\/hosts\/(ssh|local|command-driver|lab-fleet|os-commands|driver|activities)\.js$/,
];

/** Every file Node loaded to require `entry` (paths relative to the repository). */
function modulesLoadedBy(entry: string): string[] {
  const script = `require('reflect-metadata'); require(${JSON.stringify(entry)}); process.stdout.write(JSON.stringify(Object.keys(require.cache)));`;
  const out = execFileSync(process.execPath, ['-e', script], { cwd: repoRoot, encoding: 'utf8' });
  return (JSON.parse(out) as string[]).map((file) => path.relative(repoRoot, file).split(path.sep).join('/'));
}

const drivers = (modules: string[]) => modules.filter((m) => DRIVERS.some((pattern) => pattern.test(`/${m}`)));

describe("the API's module graph", () => {
  test('loads the stores and window logic it shares with the worker, and no driver', () => {
    const loaded = modulesLoadedBy('./apps/api/dist/create-app.js');
    expect(loaded).toEqual(expect.arrayContaining(['activities/dist/api-surface.js', 'libs/maintenance/dist/evaluate-window.js']));
    expect(loaded).not.toContain('activities/dist/index.js');
    expect(drivers(loaded)).toEqual([]);
  });

  test("the worker's activities do load them (the patterns above find drivers where there are some)", () => {
    const loaded = drivers(modulesLoadedBy('./activities/dist/index.js'));
    expect(loaded).toEqual(expect.arrayContaining(['activities/dist/backup/restic.js', 'activities/dist/hosts/ssh.js']));
    expect(loaded.some((m) => m.includes('node_modules/ssh2/'))).toBe(true);
  });
});
