import { InventoryStore, LabFleet } from '@runbooks/activities';
import type { Host } from '@runbooks/contracts';
import { Store, type StoreLocation } from '@runbooks/store';
import fs from 'node:fs/promises';
import path from 'node:path';

export interface LabFleetSpec {
  /** Where the lab hosts' state goes (and the SQLite store, unless `store` is given). */
  dir: string;
  /** The store that gets the inventory and keeps the fleet's ledger; default: `<dir>/runbooks.sqlite`. */
  store?: StoreLocation;
  canary: number;
  production: number;
  /** Installed package versions every host starts with. */
  packages: Record<string, string>;
  /** Host name prefix, so several fleets can share an inventory (default "lab"). */
  prefix?: string;
  /** How long each patch takes on every host (default: at once). */
  slowPatchMs?: number;
}

export interface LabFleetFixture {
  /** Where the store is: give it to the API and the workers that act on this fleet. */
  storeLocation: StoreLocation;
  /** The fixture's own connection to it (close it when done). */
  store: Store;
  labRoot: string;
  stateDir: string;
  fleet: LabFleet;
  canary: string[];
  production: string[];
}

/**
 * A lab fleet with real state on disk and its inventory: `canary` hosts tagged canary, the rest
 * tagged prod, all tagged lab. Used by the embedded default, the tests and the benches.
 */
export async function createLabFleet(spec: LabFleetSpec): Promise<LabFleetFixture> {
  const prefix = spec.prefix ?? 'lab';
  const name = (kind: string, i: number) => `${prefix}-${kind}-${String(i + 1).padStart(5, '0')}`;
  const canary = Array.from({ length: spec.canary }, (_, i) => name('canary', i));
  const production = Array.from({ length: spec.production }, (_, i) => name('prod', i));
  const hosts: Host[] = [...canary.map((n) => labHost(n, ['lab', 'canary'])), ...production.map((n) => labHost(n, ['lab', 'prod']))];
  await fs.mkdir(spec.dir, { recursive: true });
  const storeLocation = spec.store ?? { kind: 'sqlite', file: path.join(spec.dir, 'runbooks.sqlite') };
  const store = Store.open(storeLocation);
  const labRoot = path.join(spec.dir, 'lab');
  const stateDir = path.join(spec.dir, 'host-state');
  await new InventoryStore(store).replace({ hosts });
  const fleet = new LabFleet(labRoot, store);
  const faults = spec.slowPatchMs ? { slowPatchMs: spec.slowPatchMs } : undefined;
  await fleet.seed(hosts.map((h) => ({ name: h.name, packages: spec.packages, faults })));
  return { storeLocation, store, labRoot, stateDir, fleet, canary, production };
}

function labHost(name: string, tags: string[]): Host {
  return { name, address: `${name}.lab.invalid`, osFamily: 'lab', driver: 'lab', tags };
}
