import { InventoryStore, LabFleet } from '@runbooks/activities';
import type { Host } from '@runbooks/contracts';
import fs from 'node:fs/promises';
import path from 'node:path';

export interface LabFleetSpec {
  /** Where the inventory file and the lab hosts' state go. */
  dir: string;
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
  inventoryFile: string;
  /** The maintenance calendar (windows and freezes) the worker and the API read. */
  calendarFile: string;
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
  const inventoryFile = path.join(spec.dir, 'inventory.json');
  const labRoot = path.join(spec.dir, 'lab');
  const stateDir = path.join(spec.dir, 'host-state');
  await new InventoryStore(inventoryFile).replace({ hosts });
  const fleet = new LabFleet(labRoot);
  const faults = spec.slowPatchMs ? { slowPatchMs: spec.slowPatchMs } : undefined;
  await fleet.seed(hosts.map((h) => ({ name: h.name, packages: spec.packages, faults })));
  return { inventoryFile, calendarFile: path.join(spec.dir, 'calendar.json'), labRoot, stateDir, fleet, canary, production };
}

function labHost(name: string, tags: string[]): Host {
  return { name, address: `${name}.lab.invalid`, osFamily: 'lab', driver: 'lab', tags };
}
