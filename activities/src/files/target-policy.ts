import {
  SYSTEM_FOLDERS,
  restoreTargetPolicySchema,
  restoreTargetRefusal,
  type RestoreTargetPolicy,
  type RestoreTargetRule,
  type ServiceDataFolders,
} from '@runbooks/contracts';
import type { DocumentVersion, Store } from '@runbooks/store';
import { ApplicationFailure } from '@temporalio/common';
import { realpath } from 'node:fs/promises';
import path from 'node:path';

/** The worker's refusal of a target the policy no longer allows (never retried: the policy, not the machine, said no). */
export const TARGET_OUTSIDE_POLICY = 'TargetOutsidePolicy';

/**
 * The path with symlinks resolved, as this machine sees it now: the longest prefix that exists
 * goes through realpath and the rest (not created yet) is appended, so a symlink anywhere above
 * the target (e.g. an allowed folder's link to /etc) is followed before any rule is applied.
 */
export async function canonicalPath(p: string): Promise<string> {
  const absolute = path.resolve(p);
  const missing: string[] = [];
  for (let prefix = absolute; ; prefix = path.dirname(prefix)) {
    try {
      return path.join(await realpath(prefix), ...missing.reverse());
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' && (error as NodeJS.ErrnoException).code !== 'ENOTDIR') throw error;
      if (prefix === '/') return absolute;
      missing.push(path.basename(prefix));
    }
  }
}

/**
 * The restore target policy in the store (validated on every read and write), and the check
 * both the API (at launch) and the worker (right before the swap) apply: the target and the
 * rule's roots canonicalized on the machine that checks, system folders and the service's own
 * data folders refused whatever the policy says.
 */
export class RestoreTargetPolicyStore {
  constructor(
    private readonly store: Store,
    /** The service's data folders (RUNBOOKS_DATA_DIR, the store's folder): never a restore target. */
    private readonly serviceData: ServiceDataFolders,
  ) {}

  async read(): Promise<DocumentVersion & { policy: RestoreTargetPolicy }> {
    const { rules, ...version } = await this.store.restoreTargets.read();
    const policy = restoreTargetPolicySchema.parse({ rules: rules.map((r) => JSON.parse(r) as RestoreTargetRule) });
    return { ...version, policy };
  }

  async replace(policy: RestoreTargetPolicy, expectedVersion?: number): Promise<DocumentVersion> {
    const valid = restoreTargetPolicySchema.parse(policy);
    return this.store.restoreTargets.replace(
      valid.rules.map((rule) => ({ repository: rule.repository, body: JSON.stringify(rule) })),
      expectedVersion,
    );
  }

  /** Why the policy refuses a restore from `repository` into `target`; undefined when it allows it. */
  async refusal({ repository, target }: { repository: string; target: string }): Promise<string | undefined> {
    const { policy } = await this.read();
    const canonical = await canonicalPath(target);
    const canonicalPolicy: RestoreTargetPolicy = {
      rules: await Promise.all(policy.rules.map(async (r) => ({ ...r, roots: await Promise.all(r.roots.map(canonicalPath)) }))),
    };
    const serviceData: ServiceDataFolders = {
      dirs: await Promise.all(this.serviceData.dirs.map(canonicalPath)),
      except: await Promise.all(this.serviceData.except.map(canonicalPath)),
    };
    const refusal = restoreTargetRefusal(
      canonicalPolicy,
      { repository, target: canonical },
      { systemFolders: SYSTEM_FOLDERS, serviceData },
    );
    if (refusal === undefined) return undefined;
    return canonical === path.resolve(target) ? refusal : `${target} resolves to ${canonical}: ${refusal}`;
  }

  /** The worker's re-check: a non-retryable TargetOutsidePolicy when the policy refuses the target now. */
  async assertAllowed(input: { repository: string; target: string }): Promise<{ target: string }> {
    const refusal = await this.refusal(input);
    if (refusal !== undefined) {
      throw ApplicationFailure.nonRetryable(`restore target refused by policy before anything changed: ${refusal}`, TARGET_OUTSIDE_POLICY);
    }
    return { target: input.target };
  }
}

/** The folders a restore may never touch because the service keeps its own state there (but the demo's file server). */
export function serviceDataDirs(dataDir: string | undefined, store: Store): ServiceDataFolders {
  const dirs = dataDir === undefined ? [] : [dataDir];
  if (store.location.kind === 'sqlite') dirs.push(path.dirname(store.location.file));
  return { dirs, except: dataDir === undefined ? [] : [demoFileServer(dataDir)] };
}

/** Where `npm start`'s demo keeps its stand-in file server (seed-demo), the only restorable place in the data folder. */
export function demoFileServer(dataDir: string): string {
  return path.join(dataDir, 'demo', 'fileserver');
}
