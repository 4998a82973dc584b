import { securityPatchingRunbook, type RunState, type RunbookStartArgs, type SecurityPatchingInput } from '@runbooks/contracts';
import { FleetCampaign } from './engine/fleet-campaign';
import { RunbookRun } from './engine/run';
import { procedureCall } from './procedures';

/**
 * Security patching (shared/docs/runbooks.md): inventory, maintenance window, canary group,
 * approval, production in waves with a health check per host and a bake time per wave, a
 * failure threshold that stops the rollout, rollback from snapshots, a host-by-host report.
 * Per host it runs the `security-patch` procedure: snapshot, patch, health check.
 */
export async function securityPatching(args: RunbookStartArgs<SecurityPatchingInput>): Promise<RunState> {
  const run = new RunbookRun(securityPatchingRunbook, args);
  const campaign = new FleetCampaign(run, args, procedureCall('security-patch', { patches: args.input.patches }));

  return run.execute(async () => {
    if (!campaign.resuming) {
      await campaign.buildInventory();
      await campaign.waitForWindow();
      await campaign.canaryWave();
      await campaign.approveProduction(`Patch ${campaign.productionHosts} production hosts after a clean canary`);
    }
    await campaign.productionWaves();
  });
}
