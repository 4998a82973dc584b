import { redactOutput } from '../text/redact-output';
import { HOST_COMMAND_SECONDS, type ConflictEvidence, type Host, type HostDriverName } from '@runbooks/contracts';
import type { Store } from '@runbooks/store';
import { createHash } from 'node:crypto';
import { withHeartbeat } from '../activity-context';
import type { ReproductionRef } from '../conflict-types';
import type { RunbookActivities } from '../types';
import { CommandHostDriver, summary, type CommandResult } from './command-driver';
import { ConflictCommands, parseDpkgLog } from './conflict-commands';
import { ConflictReproductionStore, REPRODUCTION_REFUSED } from './conflict-reproductions';
import type { HostDriver } from './driver';
import { HostFailureType, hostAttempts, nonRetryable, retryable } from './failures';
import type { InventoryStore } from './inventory-store';
import { LabFleet } from './lab-fleet';
import { OperationLedger } from './ledger';
import { parsePackageVersions } from './os-commands';

export type ConflictActivities = Pick<
  RunbookActivities,
  | 'collectConflictEvidence'
  | 'runReproduction'
  | 'createSandbox'
  | 'trySandboxFix'
  | 'discardSandbox'
  | 'applyConflictFix'
  | 'undoConflictFix'
  | 'writeKnowledgeBaseArticle'
>;

const SNAPSHOT_MS = HOST_COMMAND_SECONDS.snapshot * 1000;
const PACKAGES_MS = HOST_COMMAND_SECONDS.patch * 1000;
const CHECK_MS = HOST_COMMAND_SECONDS.health * 1000;
const BEAT = { delayFirstBeat: true };

/**
 * The software-conflict runbook's host work: evidence, the sandbox and its trials, the fix on the
 * host and its undo, through the ssh and local drivers (commands: ConflictCommands). The fix and
 * its undo are applied once per idempotency key (the host-operation ledger, scope `conflict-<driver>`);
 * the undo puts the snapshot's versions back with the driver's own restore (kept .debs).
 */
export function createConflictActivities(deps: {
  inventory: InventoryStore;
  drivers: Record<HostDriverName, HostDriver>;
  store: Store;
}): ConflictActivities {
  const target = async (name: string) => {
    const host = await deps.inventory.get(name);
    const driver = deps.drivers[host.driver];
    if (!(driver instanceof CommandHostDriver)) {
      throw nonRetryable(
        `host ${name}: the ${host.driver} driver runs no commands; software conflicts are resolved on ssh and local hosts`,
        HostFailureType.misconfigured,
      );
    }
    return { host, driver };
  };
  /** A lab host: the fix and its undo are simulated there (a fleet-wide fix in waves on the lab fleet); the rest needs commands. */
  const labTarget = async (name: string) => {
    const host = await deps.inventory.get(name);
    const driver = deps.drivers[host.driver];
    return driver instanceof LabFleet ? { host, driver } : undefined;
  };
  const reproductions = new ConflictReproductionStore(deps.store);
  /**
   * The catalogued reproduction to run on `host` now. A run launched before the catalogue carries
   * a technician's own command: it is not run, since it would run as root before any approval.
   */
  const reproductionFor = async (ref: ReproductionRef, host: Host) => {
    if (ref.reproduction === undefined) {
      throw nonRetryable(
        `this run was launched with its own reproduction command (input.reproduce), which the worker no longer runs: ` +
          `launch it again naming a reproduction of the catalogue (input.reproduction); nothing was run on ${host.name}`,
        REPRODUCTION_REFUSED,
      );
    }
    const { name, revision, command } = await reproductions.resolve(ref.reproduction, host);
    return { name, revision, command };
  };
  const ledger = (host: Host) => new OperationLedger(deps.store, `conflict-${host.driver}`);
  /** Runs one script on the host within the host's failure budget; a non-zero exit is the caller's to read. */
  const run = (host: Host, driver: CommandHostDriver, step: string, build: (c: ConflictCommands) => string, timeoutMs: number) =>
    withHeartbeat(
      () => ({ host: host.name, step }),
      (signal) =>
        hostAttempts(host.name, step, signal, (bounded) =>
          driver.runScript(host, (root) => build(new ConflictCommands(root)), timeoutMs, bounded),
        ),
      BEAT,
    );
  const mustSucceed = (host: Host, what: string, result: CommandResult): string => {
    if (result.code === 0 && !result.timedOut) return result.stdout;
    throw retryable(
      `host ${host.name}: ${what} ${result.timedOut ? 'did not finish in time' : `failed (exit code ${result.code ?? 'none'})`}: ` +
        (summary(result.stderr) || summary(result.stdout) || 'no output'),
      HostFailureType.commandFailed,
    );
  };

  return {
    async collectConflictEvidence({ host: name, since, until, packages }) {
      const { host, driver } = await target(name);
      const read = async (step: string, build: (c: ConflictCommands) => string, timeoutMs = SNAPSHOT_MS) =>
        mustSucceed(host, step, await run(host, driver, step, build, timeoutMs));
      const installed = parsePackageVersions(await read('listing the installed packages', (c) => c.installed()));
      const changes = parseDpkgLog(await read("reading dpkg's log", (c) => c.dpkgLog()), new Date(since), new Date(until));
      const involved = [...new Set([...packages, ...changes.map((c) => c.package)])];
      const candidates = parsePackageVersions(await read('asking apt for candidate versions', (c) => c.candidates(involved), PACKAGES_MS));
      const epoch = (iso: string) => Math.floor(new Date(iso).getTime() / 1000);
      const evidence: ConflictEvidence = {
        installed: Object.fromEntries(installed),
        candidates: Object.fromEntries(candidates),
        changes,
        listening: redactOutput((await read('listing the listening ports', (c) => c.listening())).slice(0, 16_000)),
        logs: redactOutput((await read('reading the logs', (c) => c.logs(epoch(since), epoch(until)))).slice(-16_000)),
      };
      return evidence;
    },

    async runReproduction({ host: name, sandboxId, ...ref }) {
      if (sandboxId !== undefined) checkSandboxId(sandboxId);
      const { host, driver } = await target(name);
      const ran = await reproductionFor(ref, host);
      const result = await run(
        host,
        driver,
        'reproduce',
        (c) => c.reproduce(ran.command, sandboxId ? c.sandboxDir(sandboxId) : undefined),
        CHECK_MS,
      );
      const output = mustSucceed(host, 'the reproduction', result);
      const status = /exit=(\d+)\s*$/.exec(output);
      const exitCode = status ? Number(status[1]) : -1;
      return { passes: exitCode === 0, exitCode, output: summary(output.replace(/exit=\d+\s*$/, '')), ran };
    },

    async createSandbox({ host: name, sandboxId, packages }) {
      checkSandboxId(sandboxId);
      const { host, driver } = await target(name);
      const result = await run(host, driver, 'sandbox', (c) => c.createSandbox(sandboxId, packages), PACKAGES_MS);
      mustSucceed(host, 'building the sandbox', result);
      return { sandboxId, dir: new ConflictCommands('').sandboxDir(sandboxId) };
    },

    async trySandboxFix({ host: name, sandboxId, trial, fix, ...ref }) {
      checkSandboxId(sandboxId);
      const { host, driver } = await target(name);
      const { command, revision } = await reproductionFor(ref, host);
      const result = await run(host, driver, 'sandbox trial', (c) => c.trial(sandboxId, trial, fix, command), PACKAGES_MS);
      const output = mustSucceed(host, `trial ${trial} in the sandbox`, result);
      const applied = /applied=yes/.test(output);
      const status = /exit=(\d+)\s*$/.exec(output);
      const said = summary(output.replace(/applied=(yes|no)|exit=\d+/g, '')) || 'no output';
      return {
        fix,
        applied,
        passes: applied && status !== null && Number(status[1]) === 0,
        detail: applied ? `reproduction exited ${status?.[1] ?? '?'}: ${said}` : `the fix did not install: ${said}`,
        revision,
      };
    },

    async discardSandbox({ host: name, sandboxId }) {
      checkSandboxId(sandboxId);
      const { host, driver } = await target(name);
      mustSucceed(
        host,
        'discarding the sandbox',
        await run(host, driver, 'discard sandbox', (c) => c.discardSandbox(sandboxId), SNAPSHOT_MS),
      );
    },

    async applyConflictFix({ host: name, fix, idempotencyKey }) {
      const lab = await labTarget(name);
      if (lab) return lab.driver.applyConflictFix(lab.host, fix, idempotencyKey);
      const { host, driver } = await target(name);
      return ledger(host).once(host.name, 'patch', idempotencyKey, async () => {
        const result = await run(host, driver, 'apply fix', (c) => c.applyFix(fix), PACKAGES_MS);
        if (result.code !== 0 || result.timedOut) {
          throw nonRetryable(
            `host ${host.name}: the fix failed (exit code ${result.code ?? 'none'}): ${summary(result.stderr) || summary(result.stdout)}`,
            HostFailureType.patchFailed,
          );
        }
        const after = parsePackageVersions(
          mustSucceed(host, 'listing the installed packages', await run(host, driver, 'list', (c) => c.installed(), SNAPSHOT_MS)),
        );
        return { package: fix.package, version: after.get(fix.package) ?? null };
      });
    },

    async undoConflictFix({ host: name, fix, snapshotId, idempotencyKey }) {
      const lab = await labTarget(name);
      if (lab) return lab.driver.undoConflictFix(lab.host, fix, snapshotId, idempotencyKey);
      const { host, driver } = await target(name);
      await ledger(host).once(host.name, 'restore', `${idempotencyKey}/release-hold`, async () => {
        mustSucceed(host, 'releasing the hold', await run(host, driver, 'release hold', (c) => c.releaseHold(fix), SNAPSHOT_MS));
        return {};
      });
      return withHeartbeat(
        () => ({ host: name, step: 'restore', snapshotId }),
        (signal) => hostAttempts(name, 'restore', signal, (bounded) => driver.restore(host, snapshotId, idempotencyKey, bounded)),
        BEAT,
      );
    },

    async writeKnowledgeBaseArticle({ idempotencyKey, article }) {
      // One article per run: a retried write replaces the same id.
      const id = `kb-${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 16)}`;
      const searchText = [article.title, article.symptom, article.cause, article.fix, ...article.commands, ...article.hosts].join('\n');
      const row = await deps.store.knowledgeBase.put({
        id,
        runId: article.runId,
        title: article.title,
        searchText,
        body: JSON.stringify({ id, ...article }),
      });
      return { id, createdAt: row.createdAt };
    },
  };
}

/** A sandbox id names a folder on the host: 16 hex digits and nothing else. */
function checkSandboxId(sandboxId: string): void {
  if (!/^[0-9a-f]{16}$/.test(sandboxId)) {
    throw nonRetryable(`invalid input: sandboxId must be 16 hex digits, not ${JSON.stringify(sandboxId)}`, HostFailureType.invalidInput);
  }
}
