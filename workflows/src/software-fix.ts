import { softwareFixRunbook, type RunState, type RunbookStartArgs, type SoftwareFixInput } from '@runbooks/contracts';
import { FleetCampaign } from './engine/fleet-campaign';
import { RunbookRun } from './engine/run';
import { procedureCall } from './procedures';

/**
 * Software conflict resolution across a fleet (shared/docs/runbooks.md): the offending package
 * is known; its fixed version is tried on the canary group, approved, then rolled out to
 * production in waves with the same threshold, steering, rollback and report as patching.
 * Per host it runs the `software-fix` procedure: snapshot the package, install, health check.
 */
export async function softwareFix(args: RunbookStartArgs<SoftwareFixInput>): Promise<RunState> {
  const run = new RunbookRun(softwareFixRunbook, args);
  const { fix } = args.input;
  const campaign = new FleetCampaign(run, args, procedureCall('software-fix', fix));

  return run.execute(async () => {
    if (!campaign.resuming) {
      await campaign.buildInventory();
      await campaign.waitForWindow();
      await campaign.canaryWave();
      await campaign.approveProduction(`${fixAction(fix)} on ${campaign.productionHosts} production hosts: ${fix.reason}`);
    }
    await campaign.productionWaves();
  });
}

function fixAction(fix: SoftwareFixInput['fix']): string {
  return fix.action === 'rollback'
    ? `Roll ${fix.package} back to ${fix.version}${fix.hold ? ' and hold it' : ''}`
    : `Install ${fix.package} ${fix.version}`;
}
