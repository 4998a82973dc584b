import { ApplicationFailure, sleep } from '@temporalio/workflow';
import {
  countHosts,
  maxToleratedFailures,
  planWaves,
  securityPatchingRunbook,
  type HostRecord,
  type RunState,
  type RunbookStartArgs,
  type SecurityPatchingInput,
} from '@runbooks/contracts';
import { WindowGuard } from './engine/maintenance-window';
import { Rollout, type RolloutCursor } from './engine/rollout';
import { RunbookRun, now } from './engine/run';

/**
 * Security patching (shared/docs/runbooks.md): inventory, maintenance window, canary group,
 * approval, production in waves with a health check per host and a bake time per wave, a
 * failure threshold that stops the rollout, rollback from snapshots, a host-by-host report.
 * Each host is snapshotted just before it is touched (not all at the start), so the snapshot
 * a rollback restores is the state the patch actually changed.
 */
/**
 * The run's state carries one small record per host (status query, report, continue-as-new);
 * past this many hosts it would near Temporal's 2 MB payload limit (measured in bench/).
 */
const MAX_TARGETS_PER_RUN = 20_000;

export async function securityPatching(args: RunbookStartArgs<SecurityPatchingInput>): Promise<RunState> {
  const run = new RunbookRun(securityPatchingRunbook, args);
  const { input } = args;
  const rollout = new Rollout(run, {
    patches: input.patches,
    concurrency: input.concurrency,
    batchSize: input.batchSize,
    maxFailures: 0,
    bakeSeconds: input.bakeSeconds,
    hostTimeoutSeconds: input.hostTimeoutSeconds,
  });
  run.onUndo('production-waves', 'Roll back every host this run changed, from its snapshot', async () => {
    if (input.rollback === 'all-changed-hosts' || run.state.cancellation) await rollout.rollBackChangedHosts();
  });
  const resumeAt = run.cursor as RolloutCursor | undefined;
  const window = new WindowGuard({
    window: input.maintenanceWindow,
    recheckMs: input.windowRecheckSeconds * 1000,
    overridden: input.windowOverride !== undefined,
    onVerdict: (closed, reason) => rollout.setWindowClosed(closed, reason),
  });
  if (input.windowOverride) run.setOutcome({ windowOverride: `by ${args.requestedBy.id}: ${input.windowOverride.reason}` });
  /** Hosts are only patched while the window is open: wait for it, then watch it until the work is done. */
  const inWindow = async (work: () => Promise<void>): Promise<void> => {
    await window.waitUntilOpen();
    const stopWatching = window.watch();
    try {
      await work();
    } finally {
      stopWatching();
    }
  };

  return run.execute(async () => {
    if (!resumeAt) {
      const inventory = await run.step('build-inventory', (a) => a.resolveTargets({ targets: input.targets, canary: input.canary }), {
        summarize: (r) => `${r.targets.length} targets, ${r.canary.length} in the canary group`,
      });
      if (inventory.unknownNames.length > 0) throw refusal(`not in the inventory: ${inventory.unknownNames.slice(0, 20).join(', ')}`);
      if (inventory.targets.length > MAX_TARGETS_PER_RUN) {
        throw refusal(`${inventory.targets.length} targets: one run patches at most ${MAX_TARGETS_PER_RUN}; split the campaign by tag`);
      }
      if (inventory.canary.length === 0) throw refusal('no target is in the canary group; the patches must be tried on a lab group first');
      const canary = new Set(inventory.canary);
      const production = inventory.targets.filter((h) => !canary.has(h));
      const waves = planWaves(production, input.waves);
      rollout.plan([{ name: 'canary', hosts: inventory.canary }, ...waves.map((hosts, i) => ({ name: `wave ${i + 1}`, hosts }))]);
      rollout.state.maxFailures = maxToleratedFailures(input.failureThreshold, inventory.targets.length);
      run.setOutcome({
        targets: inventory.targets.length,
        canaryHosts: inventory.canary.length,
        productionWaves: waves.map((w) => w.length).join(' / '),
      });

      await run.step(
        'wait-for-window',
        async () => {
          const opensAt = input.startAt ? Date.parse(input.startAt) : Date.now();
          if (opensAt > Date.now()) {
            rollout.state.waitingFor = `start time ${input.startAt}`;
            await sleep(opensAt - Date.now());
            rollout.state.waitingFor = undefined;
          }
          await window.waitUntilOpen();
          return now();
        },
        { summarize: (at) => (input.windowOverride ? `window overridden: ${input.windowOverride.reason}` : `window open at ${at}`) },
      );

      // The canary tolerates no failure: a patch that breaks a lab host never reaches production.
      await run.step('canary-wave', () => inWindow(() => rollout.runWave(0, { maxFailures: 0 })), {
        summarize: () => summarizeWave(rollout.state.hosts.filter((h) => h.wave === 0)),
      });

      await run.approval('approve-production', `Patch ${production.length} production hosts after a clean canary`, {
        allowedRoles: ['approver'],
        requiredApprovals: input.approval.requiredApprovals,
        timeoutMs: input.approval.timeoutSeconds * 1000,
        escalation: input.approval.escalation,
      });
    }

    await run.step(
      'production-waves',
      () =>
        inWindow(async () => {
          for (let wave = resumeAt?.wave ?? 1; wave < rollout.state.waves.length; wave++) {
            await rollout.runWave(wave, {
              maxFailures: rollout.state.maxFailures,
              fromBatch: wave === resumeAt?.wave ? resumeAt.batch : 0,
            });
            await run.continueAsNewIfSuggested({ wave: wave + 1, batch: 0 } satisfies RolloutCursor);
          }
        }),
      { summarize: () => summarizeWave(rollout.state.hosts.filter((h) => h.wave > 0)) },
    );
    // Reached only within the failure threshold: a run that succeeds with failed hosts says how many, and that the policy allowed it.
    if (rollout.state.failures > 0) {
      run.setOutcome({
        hostsFailed: `${rollout.state.failures} (rolled back; tolerated: the failure threshold allows ${rollout.state.maxFailures})`,
      });
    }
  });
}

function refusal(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: 'TargetsRefused', message, nonRetryable: true });
}

function summarizeWave(hosts: HostRecord[]): string {
  const counts = Object.entries(countHosts(hosts)).filter(([, n]) => n > 0);
  return counts.map(([state, n]) => `${n} ${state}`).join(', ') || 'no hosts';
}
