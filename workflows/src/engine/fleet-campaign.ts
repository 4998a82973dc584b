import { ApplicationFailure, sleep } from '@temporalio/workflow';
import {
  securityPatchingRunbook,
  softwareFixRunbook,
  maxToleratedFailures,
  planWaves,
  targetsRefusal,
  type FleetCampaignInput,
  type HostCounts,
  type ProcedureCall,
  type RunbookStartArgs,
} from '@runbooks/contracts';
import { WindowGuard } from './maintenance-window';
import { Rollout, type RolloutCursor } from './rollout';
import { now, type RunbookRun } from './run';

/** The runbooks built on a fleet campaign: their step and gate ids are the ones this class runs. */
type FleetRunbook = typeof securityPatchingRunbook | typeof softwareFixRunbook;

/**
 * The steps every fleet runbook takes, whatever it does to each host (its procedure): build the
 * inventory, wait for the maintenance window, the canary wave, the production approval, the
 * production waves. A runbook calls them in its order; its step ids are these methods' ids.
 * Each host is prepared (snapshotted) just before it is touched, so an undo restores the state
 * the procedure actually changed.
 */
export class FleetCampaign {
  readonly rollout: Rollout;
  private readonly window: WindowGuard;
  private readonly resumeAt?: RolloutCursor;
  private productionCount = 0;

  constructor(
    private readonly run: RunbookRun<FleetRunbook>,
    private readonly args: RunbookStartArgs<FleetCampaignInput>,
    procedure: ProcedureCall,
  ) {
    const { input } = args;
    this.rollout = new Rollout(run, {
      procedure,
      concurrency: input.concurrency,
      batchSize: input.batchSize,
      maxFailures: 0,
      bakeSeconds: input.bakeSeconds,
      hostTimeoutSeconds: input.hostTimeoutSeconds,
    });
    run.onUndo('production-waves', 'Roll back every host this run changed, from its snapshot', async () => {
      if (input.rollback === 'all-changed-hosts' || run.state.cancellation) await this.rollout.rollBackChangedHosts();
    });
    this.resumeAt = run.cursor as RolloutCursor | undefined;
    this.window = new WindowGuard({
      window: input.maintenanceWindow,
      recheckMs: input.windowRecheckSeconds * 1000,
      overridden: input.windowOverride !== undefined,
      onVerdict: (closed, reason) => this.rollout.setWindowClosed(closed, reason),
    });
    if (input.windowOverride) run.setOutcome({ windowOverride: `by ${args.requestedBy.id}: ${input.windowOverride.reason}` });
  }

  /** Continued as new past the approval: only the production waves remain. */
  get resuming(): boolean {
    return this.resumeAt !== undefined;
  }

  /** Production hosts (the targets outside the canary group); known after buildInventory. */
  get productionHosts(): number {
    return this.productionCount;
  }

  /** Step `build-inventory`: the targets, the canary group among them, the waves; refuses what cannot run. */
  async buildInventory(): Promise<void> {
    if (this.rollout.recordsInStore) return this.planInStore();
    const { input } = this.args;
    const inventory = await this.run.step('build-inventory', (a) => a.resolveTargets({ targets: input.targets, canary: input.canary }), {
      summarize: (r) => `${r.targets.length} targets, ${r.canary.length} in the canary group`,
    });
    const refused = targetsRefusal({ ...inventory, targets: inventory.targets.length, canary: inventory.canary.length });
    if (refused) throw refusal(refused);
    const canary = new Set(inventory.canary);
    const production = inventory.targets.filter((h) => !canary.has(h));
    const waves = planWaves(production, input.waves);
    this.rollout.plan([{ name: 'canary', hosts: inventory.canary }, ...waves.map((hosts, i) => ({ name: `wave ${i + 1}`, hosts }))]);
    this.planFacts(
      inventory.targets.length,
      inventory.canary.length,
      waves.map((w) => w.length),
    );
  }

  /**
   * build-inventory for runs whose host records are in the store: one activity resolves the targets
   * and writes the plan there, and answers counts, so no payload of the run grows with the fleet.
   */
  private async planInStore(): Promise<void> {
    const { input } = this.args;
    const plan = await this.run.step(
      'build-inventory',
      (a) =>
        a.planRollout({
          runId: this.run.state.runId,
          targets: input.targets,
          canary: input.canary,
          waves: input.waves,
          batchSize: input.batchSize,
        }),
      { summarize: (r) => `${r.targets} targets, ${r.canary} in the canary group` },
    );
    if (plan.refusal) throw refusal(plan.refusal);
    this.rollout.planned([{ name: 'canary', hosts: plan.canary }, ...plan.waves.map((hosts, i) => ({ name: `wave ${i + 1}`, hosts }))]);
    this.planFacts(plan.targets, plan.canary, plan.waves);
  }

  private planFacts(targets: number, canary: number, waves: number[]): void {
    this.productionCount = targets - canary;
    this.rollout.state.maxFailures = maxToleratedFailures(this.args.input.failureThreshold, targets);
    this.run.setOutcome({ targets, canaryHosts: canary, productionWaves: waves.join(' / ') });
  }

  /** Step `wait-for-window`: until the start time, then until the maintenance window is open. */
  async waitForWindow(): Promise<void> {
    const { input } = this.args;
    await this.run.step(
      'wait-for-window',
      async () => {
        const opensAt = input.startAt ? Date.parse(input.startAt) : Date.now();
        if (opensAt > Date.now()) {
          this.rollout.state.waitingFor = `start time ${input.startAt}`;
          await sleep(opensAt - Date.now());
          this.rollout.state.waitingFor = undefined;
        }
        await this.window.waitUntilOpen();
        return now();
      },
      { summarize: (at) => (input.windowOverride ? `window overridden: ${input.windowOverride.reason}` : `window open at ${at}`) },
    );
  }

  /** Step `canary-wave`: the canary tolerates no failure, so a change that breaks a lab host never reaches production. */
  async canaryWave(): Promise<void> {
    await this.run.step('canary-wave', () => this.inWindow(() => this.rollout.runWave(0, { maxFailures: 0 })), {
      summarize: () => summarizeHosts(this.rollout.hostCounts((wave) => wave === 0)),
    });
  }

  /** Step `approve-production`: N of M approvers, escalation through the tiers, then reject. */
  async approveProduction(title: string): Promise<void> {
    const { approval } = this.args.input;
    await this.run.approval('approve-production', title, {
      allowedRoles: ['approver'],
      requiredApprovals: approval.requiredApprovals,
      timeoutMs: approval.timeoutSeconds * 1000,
      escalation: approval.escalation,
    });
  }

  /** Step `production-waves`: wave after wave, continuing as new between batches when the history grows. */
  async productionWaves(): Promise<void> {
    const { rollout, resumeAt } = this;
    await this.run.step(
      'production-waves',
      () =>
        this.inWindow(async () => {
          for (let wave = resumeAt?.wave ?? 1; wave < rollout.state.waves.length; wave++) {
            await rollout.runWave(wave, {
              maxFailures: rollout.state.maxFailures,
              fromBatch: wave === resumeAt?.wave ? resumeAt.batch : 0,
            });
            await this.run.continueAsNewIfSuggested({ wave: wave + 1, batch: 0 } satisfies RolloutCursor);
          }
        }),
      { summarize: () => summarizeHosts(rollout.hostCounts((wave) => wave > 0)) },
    );
    // Reached only within the failure threshold: a run that succeeds with failed hosts says how many, and that the policy allowed it.
    if (rollout.state.failures > 0) {
      this.run.setOutcome({
        hostsFailed: `${rollout.state.failures} (rolled back; tolerated: the failure threshold allows ${rollout.state.maxFailures})`,
      });
    }
  }

  /** Hosts are only changed while the window is open: wait for it, then watch it until the work is done. */
  private async inWindow(work: () => Promise<void>): Promise<void> {
    await this.window.waitUntilOpen();
    const stopWatching = this.window.watch();
    try {
      await work();
    } finally {
      stopWatching();
    }
  }
}

function refusal(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: 'TargetsRefused', message, nonRetryable: true });
}

function summarizeHosts(hosts: HostCounts): string {
  const counts = Object.entries(hosts).filter(([, n]) => n > 0);
  return counts.map(([state, n]) => `${n} ${state}`).join(', ') || 'no hosts';
}
