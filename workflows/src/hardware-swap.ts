import { ApplicationFailure } from '@temporalio/workflow';
import {
  componentSwapEvidenceForm,
  hardwareSwapRunbook,
  type ComponentSwapEvidence,
  type HardwareSwapInput,
  type RunState,
  type RunbookStartArgs,
} from '@runbooks/contracts';
import type { DiagnoseHostResult } from '@runbooks/activities';
import { restoreOnOneWorker, safeSuffix } from './data-restore';
import { RunbookRun } from './engine/run';

/** The run fails with this when the machine does not pass its tests after the swap. */
export const SWAP_FAILED_TESTS = 'SwapFailedTests';

/**
 * Hardware swap (shared/docs/runbooks.md): diagnose, back up the user's data, power down safely, a
 * technician swaps the part (evidence: serials, asset tag, a model the register lists as compatible),
 * power on, update drivers, test again, bring the data back if the disk was replaced, record the new
 * part, tell the user. A swap that fails its tests escalates, and the engine undoes what software can
 * (drivers, power, services); the register keeps the old part. Once the new part is recorded, the
 * swap stands: a failing notice only warns.
 */
export async function hardwareSwap(args: RunbookStartArgs<HardwareSwapInput>): Promise<RunState> {
  const run = new RunbookRun(hardwareSwapRunbook, args);
  const { host, assetTag, userData, services, drivers, ticket, notify, slaSeconds, escalationContact } = args.input;
  const key = run.idempotencyKey;

  return run.execute(async () => {
    const { asset } = await run.step(
      'diagnose',
      async (a) => ({ asset: await a.readAsset({ tag: assetTag, host }), before: await a.diagnoseHost({ host }) }),
      {
        summarize: ({ asset, before }) =>
          `${asset.component} ${asset.serial} (${asset.model}): ${before.faultyComponents.includes(asset.component) ? 'faulty' : 'no fault found by the checks; swapped as reported'}; ${describeChecks(before)}`,
        details: ({ before }) => ({ checks: before.checks }),
      },
    );
    run.setOutcome({ component: asset.component, removedPart: `${asset.serial} (${asset.model})` });

    const backup = await run.step(
      'backup-user-data',
      (a) =>
        a.backupPath({ repository: userData.repository, path: userData.path, host, idempotencyKey: `${key}/backup`, launch: run.launch }),
      { summarize: (b) => `${userData.path} in snapshot ${b.shortId} (${b.time})`, details: (b) => ({ snapshotId: b.snapshotId }) },
    );
    run.setOutcome({ backupSnapshot: backup.shortId });

    // The driver applies a power-down whole or not at all: a refused one (no power control) has nothing to undo.
    await run.step('power-down', (a) => a.powerDownHost({ host, services, idempotencyKey: `${key}/power-down` }), {
      summarize: (r) =>
        `drained, ${r.stoppedServices.length ? `stopped ${r.stoppedServices.join(', ')}` : 'no services to stop'}, powered off`,
    });
    run.onUndo('power-down', 'Power the host back on and start its services', (a) =>
      a.powerOnHost({ host, idempotencyKey: `${key}/undo-power-down` }),
    );

    const swap = await run.task<ComponentSwapEvidence>('swap-component', {
      title: `Replace the ${asset.component} ${assetTag} in ${host}`,
      instructions: [
        `1. ${host} is drained and powered off. Find the ${asset.component} with asset tag ${assetTag} (serial ${asset.serial}, ${asset.model}).`,
        `2. Take it out and put in a compatible part: ${asset.compatibleModels.join(', ')}.`,
        '3. Seat the cables and connectors, close the case.',
        '4. Give the asset tag, both serial numbers and the new part’s model.',
      ].join('\n'),
      assignee: 'tier2',
      evidence: componentSwapEvidenceForm(asset),
      slaMs: slaSeconds * 1000,
    });
    const installed = { serial: swap.installedSerial, model: swap.partModel };

    await run.step(
      'power-on',
      (a) => a.powerOnHost({ host, idempotencyKey: `${key}/power-on`, installed: { component: asset.component, ...installed } }),
      { summarize: (r) => r.detail },
    );

    if (drivers.length > 0) {
      const snapshot = await run.step(
        'update-drivers',
        async (a) => {
          const taken = await a.snapshotHost({ host, idempotencyKey: `${key}/drivers-snapshot`, packages: drivers.map((d) => d.package) });
          return { ...taken, ...(await a.patchHost({ host, patches: drivers, idempotencyKey: `${key}/drivers` })) };
        },
        {
          summarize: (r) =>
            r.changed.length ? r.changed.map((c) => `${c.package} ${c.from ?? '(none)'} → ${c.to}`).join(', ') : 'drivers already current',
        },
      );
      run.onUndo('update-drivers', 'Put the previous driver versions back', (a) =>
        a.restoreHostSnapshot({ host, snapshotId: snapshot.snapshotId, idempotencyKey: `${key}/undo-drivers` }),
      );
    }

    await run.step(
      'test-again',
      async (a) => {
        const after = await a.diagnoseHost({ host });
        if (after.healthy) return after;
        const failed = after.checks.filter((c) => c.status === 'failed').map((c) => `${c.name}: ${c.detail}`);
        await a.notify({
          runId: run.state.runId,
          recipients: [escalationContact],
          kind: 'escalation',
          subject: `Hardware swap on ${host} failed its tests (${run.state.runId})`,
          text:
            `After ${swap.installedSerial} (${swap.partModel}) went into ${host} as ${assetTag}, the tests still fail: ${failed.join('; ')}. ` +
            `The run puts back what it changed (drivers, services, power) and leaves the asset register unchanged; the user's data is ` +
            `in snapshot ${backup.shortId}. The part needs a person.${ticket ? ` Ticket: ${ticket}.` : ''}`,
          fields: { host, assetTag, installedSerial: swap.installedSerial, ...(ticket ? { ticket } : {}) },
          idempotencyKey: `${key}/escalate-failed-tests`,
        });
        throw ApplicationFailure.create({
          type: SWAP_FAILED_TESTS,
          nonRetryable: true,
          message: `${host} fails its tests after the swap (escalated to ${escalationContact}): ${failed.join('; ')}`,
        });
      },
      { summarize: describeChecks, details: (after) => ({ checks: after.checks }) },
    );

    if (asset.component === 'disk') {
      const restored = await restoreOnOneWorker(run, {
        repository: userData.repository,
        snapshotId: backup.snapshotId,
        path: userData.path,
        target: userData.path,
        stagingDir: `${userData.path}.restore-staging-${safeSuffix(key)}`,
        retainedCopyDir: `${userData.path}.pre-restore-${safeSuffix(key)}`,
      });
      run.setOutcome({ filesRestored: restored.verified.files, manifestSha256: restored.verified.manifestSha256 });
    }

    run.onUndo('update-asset-register', 'Put the removed part back in the asset register', (a) =>
      a.revertAssetSwap({ tag: assetTag, runId: run.state.runId }),
    );
    await run.step(
      'update-asset-register',
      (a) => a.recordAssetSwap({ tag: assetTag, runId: run.state.runId, by: swapCompletedBy(run), installed }),
      {
        summarize: (r) =>
          `${assetTag}: ${r.swap.removed.serial} → ${r.swap.installed.serial} (${r.swap.installed.model}), version ${r.version}`,
      },
    );
    run.pointOfNoReturn();
    run.setOutcome({ installedPart: `${installed.serial} (${installed.model})` });

    await run.step(
      'notify-user',
      (a) =>
        a.notify({
          runId: run.state.runId,
          recipients: notify,
          kind: 'run-completed',
          subject: `${host} is back: its ${asset.component} was replaced`,
          text:
            `The ${asset.component} of ${host} was replaced (${asset.serial} out, ${installed.serial} ${installed.model} in) and the machine passed its tests.` +
            `${asset.component === 'disk' ? ` Your data was restored from the backup taken before the swap (${backup.shortId}) and its checksums verified.` : ''}` +
            `${ticket ? ` Ticket: ${ticket}.` : ''}`,
          fields: { runId: run.state.runId, host, assetTag, installedSerial: installed.serial, ...(ticket ? { ticket } : {}) },
          idempotencyKey: `${key}/notify-user`,
        }),
      { summarize: (r) => `${notify.join(', ')} notified via ${r.channel}` },
    );
  });
}

function describeChecks(result: DiagnoseHostResult): string {
  return result.checks.map((c) => `${c.name} ${c.status}`).join(', ');
}

/** Who completed the hands-on task (the register records it with the swap). */
function swapCompletedBy(run: RunbookRun): string {
  return run.state.tasks?.find((t) => t.id === 'swap-component')?.completedBy?.id ?? 'unknown';
}
