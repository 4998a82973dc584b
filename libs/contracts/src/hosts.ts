import { z } from 'zod';
import { secretRefSchema } from './secrets';
import { singleLine } from './text';

export const osFamilySchema = z.enum(['debian', 'rhel', 'lab']);
export type OsFamily = z.infer<typeof osFamilySchema>;

/** How the worker reaches a host: over SSH, on the worker itself, or a simulated lab host. */
export const hostDriverSchema = z.enum(['ssh', 'local', 'lab']);
export type HostDriverName = z.infer<typeof hostDriverSchema>;

export const hostNameSchema = z
  .string()
  .max(253)
  .regex(/^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$/, 'must be a host name: letters, digits, dots and dashes');
const tagSchema = z
  .string()
  .max(63)
  .regex(/^[a-z0-9][a-z0-9_.:-]{0,62}$/, 'must be a tag: lowercase letters, digits and _.:-');

/**
 * What "healthy" means on one host after a change: its services' systemd units are active and its
 * check commands exit 0 (run under bash on the host). Without them only the package database is checked.
 */
export const hostHealthChecksSchema = z.strictObject({
  units: z
    .array(z.string().regex(/^[A-Za-z0-9@_.:\\-]{1,255}$/, 'must be a systemd unit name'))
    .max(50)
    .default([]),
  commands: z.array(singleLine(2000).min(1)).max(20).default([]),
});
export type HostHealthChecks = z.infer<typeof hostHealthChecksSchema>;

/**
 * The host's baseboard management controller, through which an ssh host is powered off and on
 * (IPMI v2 over the LAN, RMCP+). The password by reference only.
 */
export const hostBmcSchema = z.strictObject({
  address: z
    .string()
    .max(253)
    .regex(/^[A-Za-z0-9][A-Za-z0-9.:-]{0,252}$/, 'must be a host name or an IP address'),
  /** UDP port of the BMC's LAN channel; default 623. */
  port: z.number().int().min(1).max(65535).optional(),
  /** IPMI user names are at most 16 bytes. */
  user: singleLine(16).min(1),
  passwordRef: secretRefSchema,
  /** RMCP+ cipher suite: 3 (HMAC-SHA1, AES-128; the default, offered by nearly every BMC) or 17 (HMAC-SHA256, AES-128). */
  cipherSuite: z.union([z.literal(3), z.literal(17)]).optional(),
});
export type HostBmc = z.infer<typeof hostBmcSchema>;

export const hostSchema = z
  .strictObject({
    name: hostNameSchema,
    address: singleLine(253).min(1),
    port: z.number().int().min(1).max(65535).optional(),
    osFamily: osFamilySchema,
    tags: z.array(tagSchema).default([]),
    driver: hostDriverSchema,
    ssh: z
      .strictObject({
        user: singleLine(64).min(1),
        /** The private key, by reference only (env: or file:). */
        privateKeyRef: secretRefSchema,
        /** Pins the host key: sha256 of the key blob, base64 as `ssh-keygen -l` prints it (without 'SHA256:'). */
        hostKeySha256: singleLine(100).min(1).optional(),
      })
      .optional(),
    health: hostHealthChecksSchema.optional(),
    /** Power control for the hardware swap; ssh hosts only. */
    bmc: hostBmcSchema.optional(),
  })
  .refine((h) => h.driver !== 'ssh' || h.ssh !== undefined, { message: 'an ssh host needs ssh.user and ssh.privateKeyRef', path: ['ssh'] })
  .refine((h) => h.bmc === undefined || h.driver === 'ssh', {
    message: 'only an ssh host is powered through a BMC (the worker does not power its own machine off; a lab host simulates power)',
    path: ['bmc'],
  });
export type Host = z.infer<typeof hostSchema>;

/** Why the runbooks cannot power `host` off and on again (the hardware swap); undefined when they can. */
export function powerControlRefusal(host: Host): string | undefined {
  if (host.driver === 'lab' || (host.driver === 'ssh' && host.bmc)) return undefined;
  return host.driver === 'ssh'
    ? `${host.name} has no bmc in the inventory: the run could power it off, never on again (give its BMC's address, user and passwordRef, or swap it by hand)`
    : `${host.name} is the worker's own machine (local driver): the run cannot power it off and on again; swap it by hand`;
}

/**
 * The most targets one fleet run changes. Its state carries counts and the hosts in flight, and
 * its plan goes from the inventory straight into the store (planRollout), so no payload of the run
 * grows with the fleet: the bound is the store's work per run (one row per host) and the inventory's size.
 */
export const MAX_TARGETS_PER_RUN = 100_000;

/** Why a fleet run may not go on with the targets its selectors picked; undefined when it may. */
export function targetsRefusal(picked: { targets: number; canary: number; unknownNames: readonly string[] }): string | undefined {
  if (picked.unknownNames.length > 0) return `not in the inventory: ${picked.unknownNames.slice(0, 20).join(', ')}`;
  if (picked.targets > MAX_TARGETS_PER_RUN) {
    return `${picked.targets} targets: one run changes at most ${MAX_TARGETS_PER_RUN}; split the campaign by tag`;
  }
  if (picked.canary === 0) return 'no target is in the canary group; the change must be tried on a lab group first';
  return undefined;
}

/** An inventory holds at least as many hosts as one run may target. */
export const MAX_INVENTORY_HOSTS = MAX_TARGETS_PER_RUN;

export const inventorySchema = z.strictObject({ hosts: z.array(hostSchema).max(MAX_INVENTORY_HOSTS) }).superRefine((inv, ctx) => {
  const seen = new Set<string>();
  inv.hosts.forEach((h, i) => {
    if (seen.has(h.name)) ctx.addIssue({ code: 'custom', message: `duplicate host name ${h.name}`, path: ['hosts', i, 'name'] });
    seen.add(h.name);
  });
});
export type Inventory = z.infer<typeof inventorySchema>;

/** Which hosts a run targets: by name, by tag (any of), or both (union). */
export const hostSelectorSchema = z
  .strictObject({
    names: z.array(hostNameSchema).max(MAX_INVENTORY_HOSTS).optional(),
    tags: z.array(tagSchema).max(50).optional(),
  })
  .refine((s) => (s.names?.length ?? 0) + (s.tags?.length ?? 0) > 0, { message: 'name at least one host or one tag' });
export type HostSelector = z.infer<typeof hostSelectorSchema>;

/** The hosts a selector picks, in inventory order; names that are not in the inventory are reported. */
export function selectHosts(hosts: readonly Host[], selector: HostSelector): { hosts: Host[]; unknownNames: string[] } {
  const names = new Set(selector.names ?? []);
  const tags = new Set(selector.tags ?? []);
  const picked = hosts.filter((h) => names.has(h.name) || h.tags.some((t) => tags.has(t)));
  const known = new Set(hosts.map((h) => h.name));
  return { hosts: picked, unknownNames: [...names].filter((n) => !known.has(n)) };
}

/**
 * A host action stops its own work this long before its activity's start-to-close timeout and
 * reports the host timeout as the host's failure; the timeout itself then means a lost worker.
 */
export const HOST_ACTION_TIMEOUT_MARGIN_MS = 5_000;

/** How long each host command may run: the ssh and local drivers' default limits. */
export const HOST_COMMAND_SECONDS = { snapshot: 120, patch: 30 * 60, health: 5 * 60, restore: 30 * 60 } as const;

/**
 * The default limit of one host action, derived from the command limits so the action always
 * outlasts its commands: patching (and restoring) lists the packages, runs the change, lists them again.
 */
export const DEFAULT_HOST_TIMEOUT_SECONDS = 2 * HOST_COMMAND_SECONDS.snapshot + HOST_COMMAND_SECONDS.patch + 60;
