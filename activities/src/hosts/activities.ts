import { patchSchema, selectHosts, type Host, type HostDriverName, type OsFamily, type Patch } from '@runbooks/contracts';
import type { Store } from '@runbooks/store';
import { withHeartbeat } from '../activity-context';
import type { ResolveTargetsInput, ResolveTargetsResult, RunbookActivities } from '../types';
import type { HostDriver } from './driver';
import { HostFailureType, hostAttempts, nonRetryable } from './failures';
import { InventoryStore } from './inventory-store';
import { LabFleet } from './lab-fleet';
import { LocalHostDriver } from './local';
import type { OsCommands } from './os-commands';
import { SshHostDriver } from './ssh';
import type { SecretResolver } from '../secrets/resolve-secret';

/** The hosts part of RunbookActivities. */
export type HostActivities = Pick<
  RunbookActivities,
  'resolveTargets' | 'snapshotHost' | 'patchHost' | 'checkHostHealth' | 'restoreHostSnapshot'
>;

export interface HostActivitiesDeps {
  inventory: InventoryStore;
  /** One driver per `host.driver` value: LabFleet, SshHostDriver, LocalHostDriver (or any HostDriver). */
  drivers: Record<HostDriverName, HostDriver>;
}

/** Where the hosts activities keep their state, and the OS commands that override the defaults. */
export interface HostActivitiesConfig {
  /** The inventory, the ledger of applied keys and the snapshots' records. */
  store: Store;
  /** Today's inventory JSON file (`{ "hosts": [...] }`), imported into the store once if it exists. */
  inventoryFile?: string;
  /** Where the lab fleet keeps its hosts and ledger. */
  labRoot: string;
  /** Where the ssh driver keeps the host keys it pinned (on this worker). */
  stateDir: string;
  osCommands?: Partial<Record<OsFamily, OsCommands>>;
  /** Resolves the ssh hosts' private keys; default: the secrets configuration of the environment. */
  secrets?: SecretResolver;
}

/** Host actions are many and mostly short (a 10,000-host campaign runs 30,000+): no beat at once. */
const HOST_HEARTBEAT = { delayFirstBeat: true };

const patchesSchema = patchSchema.array().min(1, 'give at least one patch');

/** The hosts activities: target resolution over the inventory and per-host actions dispatched on `host.driver`. */
export function createHostActivities({ inventory, drivers }: HostActivitiesDeps): HostActivities {
  const target = async (name: string, key: string) => {
    if (typeof key !== 'string' || !key) throw nonRetryable('invalid input: idempotencyKey is required', HostFailureType.invalidInput);
    const host = await inventory.get(name);
    return { host, driver: drivers[host.driver] };
  };
  return {
    async resolveTargets(input) {
      return resolveTargetNames((await inventory.read()).hosts, input);
    },

    async snapshotHost({ host: name, idempotencyKey, packages }) {
      const { host, driver } = await target(name, idempotencyKey);
      return withHeartbeat(
        () => ({ host: name, step: 'snapshot' }),
        (signal) => hostAttempts(name, 'snapshot', signal, (bounded) => driver.snapshot(host, idempotencyKey, bounded, packages)),
        HOST_HEARTBEAT,
      );
    },

    async patchHost({ host: name, patches, idempotencyKey }) {
      const valid: Patch[] = checked(patchesSchema, patches, 'patches');
      const { host, driver } = await target(name, idempotencyKey);
      return withHeartbeat(
        () => ({ host: name, step: 'patch' }),
        (signal) => hostAttempts(name, 'patch', signal, (bounded) => driver.patch(host, valid, idempotencyKey, bounded)),
        HOST_HEARTBEAT,
      );
    },

    async checkHostHealth({ host: name }) {
      const host = await inventory.get(name);
      const driver = drivers[host.driver];
      return withHeartbeat(
        () => ({ host: name, step: 'health' }),
        (signal) => hostAttempts(name, 'health', signal, (bounded) => driver.health(host, bounded)),
        HOST_HEARTBEAT,
      );
    },

    async restoreHostSnapshot({ host: name, snapshotId, idempotencyKey }) {
      const { host, driver } = await target(name, idempotencyKey);
      return withHeartbeat(
        () => ({ host: name, step: 'restore', snapshotId }),
        (signal) => hostAttempts(name, 'restore', signal, (bounded) => driver.restore(host, snapshotId, idempotencyKey, bounded)),
        HOST_HEARTBEAT,
      );
    },
  };
}

/** The targets and the canary group the selectors pick, in inventory order, and the names the inventory lacks. */
export function resolveTargetNames(hosts: readonly Host[], { targets, canary }: ResolveTargetsInput): ResolveTargetsResult {
  const picked = selectHosts(hosts, targets);
  const canaryAnywhere = selectHosts(hosts, canary);
  const canaryPicked = selectHosts(picked.hosts, canary);
  return {
    targets: picked.hosts.map((h) => h.name),
    canary: canaryPicked.hosts.map((h) => h.name),
    unknownNames: [...new Set([...picked.unknownNames, ...canaryAnywhere.unknownNames])],
  };
}

/** The inventory and the three drivers, on the config's store and folders. */
export function createHostDeps(config: HostActivitiesConfig): HostActivitiesDeps & {
  drivers: { lab: LabFleet; ssh: SshHostDriver; local: LocalHostDriver };
} {
  return {
    inventory: new InventoryStore(config.store, config.inventoryFile),
    drivers: {
      lab: new LabFleet(config.labRoot, config.store),
      ssh: new SshHostDriver({ stateDir: config.stateDir, store: config.store, osCommands: config.osCommands, secrets: config.secrets }),
      local: new LocalHostDriver({ stateDir: config.stateDir, store: config.store, osCommands: config.osCommands }),
    },
  };
}

function checked<T>(schema: { safeParse(value: unknown): ParseResult<T> }, value: unknown, field: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${[field, ...issue.path.map(String)].join('.')}: ${issue.message}`);
  throw nonRetryable(`invalid input: ${problems.slice(0, 10).join('; ')}`, HostFailureType.invalidInput);
}

type ParseResult<T> = { success: true; data: T } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } };
