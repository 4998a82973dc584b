import { ConflictReproductionStore, InventoryStore, createAptRepository, type AptPackage } from '@runbooks/activities';
import type { ConflictReproduction, Host } from '@runbooks/contracts';
import { Store, type StoreLocation } from '@runbooks/store';
import fs from 'node:fs/promises';
import path from 'node:path';

const LIB = 'usr/lib/rb-libgreet/greet.sh';

/**
 * A real library conflict in two small packages: rb-greeter calls `greet` from rb-libgreet's
 * library. rb-libgreet 2.0-1 renamed it (greet_user), so rb-greeter fails after the upgrade;
 * 3.0-1, the vendor's next release, is still broken (greet prints nothing); 1.0-1 works.
 */
export const GREETER_PACKAGES: AptPackage[] = [
  { name: 'rb-libgreet', version: '1.0-1', files: { [LIB]: 'greet() { echo "hello, $1"; }\n' } },
  { name: 'rb-libgreet', version: '2.0-1', files: { [LIB]: 'greet_user() { echo "hello, $1"; }\n' } },
  { name: 'rb-libgreet', version: '3.0-1', files: { [LIB]: 'greet() { :; }\ngreet_user() { echo "hello, $1"; }\n' } },
  {
    name: 'rb-greeter',
    version: '1.0-1',
    depends: 'rb-libgreet',
    program: '#!/bin/sh\n. "$(dirname "$0")/../lib/rb-libgreet/greet.sh"\ngreet world\n',
  },
];

/** The user's steps: run the greeter; it must greet. Exit 0 when the problem does not show. */
export const GREETER_REPRODUCTION = '"$RUNBOOK_ROOT/usr/bin/rb-greeter" | grep -q "hello, world"';

/** The greeter's reproduction as an admin writes it into the catalogue (software-conflict runs name it). */
export const GREETER_REPRODUCTION_ENTRY: ConflictReproduction = {
  name: 'greeter-greets',
  description: 'rb-greeter must print "hello, world" (exit 0); it fails when its library broke the greet function',
  command: GREETER_REPRODUCTION,
};

/** Adds (or replaces) one reproduction in the catalogue, keeping the others. */
export async function putReproduction(store: Store, entry: ConflictReproduction): Promise<void> {
  const catalogue = new ConflictReproductionStore(store);
  const { reproductions, version } = await catalogue.read();
  const kept = reproductions.filter((r) => r.name !== entry.name).map(({ revision: _, ...r }) => r);
  await catalogue.replace({ reproductions: [...kept, entry] }, version);
}

/** A package root where rb-greeter and rb-libgreet 1.0-1 were installed, then rb-libgreet upgraded to 2.0-1 with apt. */
export function brokenGreeterRoot(
  apt: ReturnType<typeof createAptRepository>,
  name: string,
  more: string[] = [],
): { packageRoot: string; upgradedAt: Date } {
  const packageRoot = apt.packageRoot(
    name,
    ['rb-greeter', 'rb-libgreet', ...more].map((p) => ({ package: p, version: '1.0-1' })),
  );
  const upgradedAt = new Date(Math.floor(Date.now() / 1000) * 1000);
  apt.install(packageRoot, [{ package: 'rb-libgreet', version: '2.0-1' }]);
  // The mirror moved on: the version before the upgrade is only in apt's cache on the host now.
  apt.drop('rb-libgreet', '1.0-1');
  return { packageRoot, upgradedAt };
}

/**
 * The demo's software conflict: a local host `desk-01` whose packages live in a package root
 * under `<data>/demo/apt` (never the machine's own packages), added to the inventory, and a ready
 * request in `<data>/demo/conflict-request.json`. The worker acts on that root through
 * RUNBOOKS_DEBIAN_PACKAGE_ROOT (scripts/start.sh sets it). dpkg installs only as root, and the
 * packages are built with dpkg-deb and apt-ftparchive: without them the demo says so and skips this.
 */
export async function seedDemoConflict(dataDir: string, location: StoreLocation): Promise<string | undefined> {
  const demo = path.join(dataDir, 'demo');
  const requestFile = path.join(demo, 'conflict-request.json');
  const seeded = await fs.readFile(requestFile, 'utf8').then(
    (text) => JSON.parse(text) as { input: Record<string, unknown> },
    () => undefined,
  );
  if (seeded?.input.reproduction !== undefined) return requestFile;
  if (seeded) {
    // Seeded before reproductions came from the catalogue: the request named a command of its own.
    const input = { ...seeded.input, reproduce: undefined, reproduction: GREETER_REPRODUCTION_ENTRY.name };
    await withStore(location, (store) => putReproduction(store, GREETER_REPRODUCTION_ENTRY));
    await fs.writeFile(requestFile, `${JSON.stringify({ ...seeded, input }, null, 2)}\n`);
    return requestFile;
  }
  let apt: ReturnType<typeof createAptRepository>;
  try {
    apt = createAptRepository(GREETER_PACKAGES, path.join(demo, 'apt'));
  } catch (error) {
    console.log(`the software-conflict demo is skipped: ${(error as Error).message}`);
    return undefined;
  }
  const { packageRoot, upgradedAt } = brokenGreeterRoot(apt, 'desk-01');
  const host: Host = {
    name: 'desk-01',
    address: 'localhost',
    osFamily: 'debian',
    driver: 'local',
    tags: ['demo-desk'],
    health: { units: [], commands: [`${packageRoot}/usr/bin/rb-greeter`] },
  };
  await withStore(location, async (store) => {
    const inventory = new InventoryStore(store);
    const { hosts } = await inventory.read();
    await inventory.replace({ hosts: [...hosts.filter((h) => h.name !== host.name), host] });
    await putReproduction(store, GREETER_REPRODUCTION_ENTRY);
  });
  const request = {
    runbook: 'software-conflict',
    input: {
      host: host.name,
      reportedAt: new Date(upgradedAt.getTime() + 60_000).toISOString(),
      symptom: 'rb-greeter prints nothing and exits with an error since the nightly update',
      reproduction: GREETER_REPRODUCTION_ENTRY.name,
      packages: ['rb-greeter'],
      ticket: 'INC-2077',
    },
  };
  await fs.writeFile(requestFile, `${JSON.stringify(request, null, 2)}\n`);
  return requestFile;
}

async function withStore(location: StoreLocation, use: (store: Store) => Promise<void>): Promise<void> {
  const store = Store.open(location);
  try {
    await use(store);
  } finally {
    await store.close();
  }
}
