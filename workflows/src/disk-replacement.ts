import {
  diskReplacementRunbook,
  diskSwapEvidenceForm,
  type DiskReplacementInput,
  type DiskSwapEvidence,
  type RunState,
  type RunbookStartArgs,
} from '@runbooks/contracts';
import { RunbookRun } from './engine/run';

/**
 * Disk replacement: a person swaps the failed disk and confirms it with both serial numbers;
 * the 1st line has it first, and each SLA that passes hands it up a line. Once the disk is in,
 * that is done for good: a failing notice only warns.
 */
export async function diskReplacement(args: RunbookStartArgs<DiskReplacementInput>): Promise<RunState> {
  const run = new RunbookRun(diskReplacementRunbook, args);
  const { host, slot, failedSerial, ticket, notify, slaSeconds } = args.input;

  return run.execute(async () => {
    const swap = await run.task<DiskSwapEvidence>('swap-disk', {
      title: `Replace the failed disk in ${slot} of ${host}`,
      instructions: [
        `1. Find ${host} and the disk in ${slot}${failedSerial ? ` (serial ${failedSerial})` : ''}; its fault light should be on.`,
        '2. Pull the failed disk and put in a new one of the same size or larger.',
        '3. Check that the RAID controller shows the array rebuilding onto the new disk.',
        '4. Give the serial numbers printed on both disks.',
      ].join('\n'),
      assignee: 'tier1',
      evidence: diskSwapEvidenceForm,
      slaMs: slaSeconds * 1000,
    });
    run.pointOfNoReturn();
    run.setOutcome({
      host,
      slot,
      removedSerial: swap.removedSerial,
      installedSerial: swap.installedSerial,
      rebuildStarted: swap.rebuildStarted,
    });

    await run.step(
      'notify-requester',
      (a) =>
        a.notify({
          runId: run.state.runId,
          recipients: notify,
          kind: 'run-completed',
          subject: `Disk in ${slot} of ${host} replaced`,
          text: `The disk in ${slot} of ${host} was replaced: ${swap.removedSerial} out, ${swap.installedSerial} in${swap.rebuildStarted ? ', array rebuilding' : ''}.${ticket ? ` Ticket: ${ticket}.` : ''}`,
          fields: { runId: run.state.runId, host, slot, installedSerial: swap.installedSerial, ...(ticket ? { ticket } : {}) },
          idempotencyKey: `${run.idempotencyKey}/notify-requester`,
        }),
      { summarize: (r) => `${notify.join(', ')} notified via ${r.channel}` },
    );
  });
}
